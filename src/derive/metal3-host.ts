// metal3/<hostname>.yaml (`metal3.export: true`): one BareMetalHost per node with a BMC, as
// baremetal-operator takes it (github.com/metal3-io/baremetal-operator/apis, metal3.io/v1alpha1;
// its admission webhook's validation judges every one in test/real/metal3.test.ts). What the
// operator refuses is refused here first (METAL3_HOST_INVALID), with the rule that says so:
// - a root device hint `deviceName` must be `/dev/<name>` or `/dev/disk/by-path/<name>`
//   (validateRootDeviceHints): an install disk by id or by label cannot be one;
// - a name that is a UUID (validateBMHName);
// - Redfish with virtual media needs a boot MAC (NeedsMAC): every node has one.
// The BMC's credentials stay out of the tree: `credentialsName` names a Secret the operator's
// namespace holds (`<hostname>-bmc`, keys `username` and `password`).
import type { InventoryPath } from '../util/paths.ts';
import { nodeAt, type ResolvedNode, type SiteModel } from '../model/index.ts';
import { effectiveConfig } from './harvester/effective.ts';
import { imageOf } from './media/index.ts';

/** A BareMetalHost object (the fields harvgen writes). */
export interface BareMetalHost {
  readonly apiVersion: 'metal3.io/v1alpha1';
  readonly kind: 'BareMetalHost';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    readonly online: boolean;
    readonly bootMACAddress: string;
    readonly bootMode: 'UEFI' | 'legacy';
    readonly bmc: { readonly address: string; readonly credentialsName: string; readonly disableCertificateVerification?: boolean };
    readonly rootDeviceHints?: { readonly deviceName: string };
    readonly image?: { readonly url: string; readonly checksum: string; readonly checksumType: 'sha256'; readonly format: 'live-iso' };
  };
}

/** A node the export leaves out (a warning) or that the operator would refuse (an error), and why. */
export interface Metal3Problem {
  readonly code: 'METAL3_NODE_NOT_EXPORTED' | 'METAL3_HOST_INVALID';
  readonly reason: string;
  readonly hint: string;
  readonly at: InventoryPath;
}

/** The label that names the site of a BareMetalHost. */
export const METAL3_SITE_LABEL = 'harvgen.io/site';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The Secret a node's BareMetalHost names for its BMC's credentials. */
export const metal3Credentials = (node: Pick<ResolvedNode, 'hostname'>) => `${node.hostname}-bmc`;

/** The install disk of a Harvester node as its config says it (none for other nodes). */
function installDevice(model: SiteModel, node: ResolvedNode): string | undefined {
  if (node.boot !== 'harvester') return undefined;
  const d = effectiveConfig(model, node).get('install.device');
  return typeof d === 'string' && d !== '' ? d : undefined;
}

/**
 * The node's BareMetalHost, or why it is left out or refused. `image`: the URL and SHA-256 of the
 * boot ISO it boots (its medium's image in the tree), when it has one.
 */
export function metal3Host(
  model: SiteModel,
  node: ResolvedNode,
  image?: { readonly url: string; readonly sha256: string },
): BareMetalHost | Metal3Problem {
  const bmc = node.bmc;
  if (bmc === undefined)
    return {
      code: 'METAL3_NODE_NOT_EXPORTED',
      reason: `node ${node.hostname} has no BMC, which Metal3 drives: left out of metal3/`,
      hint: 'Give it `bmc: { address: ... }` (Redfish or IPMI), or leave it to the tree (network boot or its boot medium).',
      at: nodeAt(node, 'hostname'),
    };
  if (UUID.test(node.hostname))
    return {
      code: 'METAL3_HOST_INVALID',
      reason: `node ${node.hostname}: a BareMetalHost may not be named with a UUID (baremetal-operator refuses it)`,
      hint: 'Give the node another hostname.',
      at: nodeAt(node, 'hostname'),
    };
  const device = installDevice(model, node);
  if (device !== undefined && !/^\/dev\/(?:disk\/by-path\/)?[^/]+$/.test(device))
    return {
      code: 'METAL3_HOST_INVALID',
      reason: `node ${node.hostname}: its install disk ${device} cannot be Metal3's root device hint (deviceName takes /dev/<name> or /dev/disk/by-path/<name>; baremetal-operator refuses any other)`,
      hint: 'Name the install disk by its kernel name or by path (`install.device: /dev/disk/by-path/...`), or leave the node out of Metal3.',
      at: nodeAt(node, 'install'),
    };
  // Ironic's URL forms: virtual media over Redfish (the system's path when the inventory names it), IPMI.
  const host = bmc.host.includes(':') ? `[${bmc.host}]` : bmc.host;
  const address = bmc.type === 'redfish' ? `redfish-virtualmedia://${host}:${bmc.port}${bmc.system ?? ''}` : `ipmi://${host}:${bmc.port}`;
  const firmware = model.boot.firmware;
  return {
    apiVersion: 'metal3.io/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name: node.hostname, namespace: model.metal3.namespace, labels: { [METAL3_SITE_LABEL]: model.site } },
    spec: {
      online: true,
      bootMACAddress: node.macs[0]!,
      bootMode: firmware === 'uefi' ? 'UEFI' : 'legacy',
      bmc: {
        address,
        credentialsName: metal3Credentials(node),
        ...(bmc.type === 'redfish' && bmc.insecure ? { disableCertificateVerification: true } : {}),
      },
      ...(device !== undefined ? { rootDeviceHints: { deviceName: device } } : {}),
      ...(image !== undefined && imageOf(node) !== undefined
        ? { image: { url: image.url, checksum: image.sha256, checksumType: 'sha256' as const, format: 'live-iso' as const } }
        : {}),
    },
  };
}

export function isBareMetalHost(h: BareMetalHost | Metal3Problem): h is BareMetalHost {
  return (h as BareMetalHost).kind === 'BareMetalHost';
}
