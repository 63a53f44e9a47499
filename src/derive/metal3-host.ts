// metal3/<hostname>.yaml (`metal3.export: true`): one BareMetalHost per node with a BMC, as
// baremetal-operator takes it (github.com/metal3-io/baremetal-operator/apis, metal3.io/v1alpha1;
// its admission webhook's validation judges every one in test/real/metal3.test.ts). What the
// operator refuses is refused here first (METAL3_HOST_INVALID), with the rule that says so:
// - an install disk no root device hint can name (src/derive/metal3-hints.ts);
// - `bootMode: UEFISecureBoot` on an IPMI BMC (validateBMCAccess: the ipmi driver's
//   SupportsSecureBoot is false): a Secure Boot site's IPMI node;
// - a name that is a UUID (validateBMHName);
// - Redfish with virtual media needs a boot MAC (NeedsMAC): every node has one.
// What Ironic then does that the inventory may not expect is a warning (metal3Notes): an IPMI
// node's live ISO is booted by Ironic's own iPXE (the ipmi driver's boot interface is `ipxe`):
// the node boots from Ironic's provisioning network, its DHCP, and iPXE `sanboot`s the ISO from
// Ironic's HTTP server (ironic's ipxe_config.template), not as virtual media.
// The BMC's credentials stay out of the tree: `credentialsName` names a Secret the operator's
// namespace holds (`<hostname>-bmc`, keys `username` and `password`).
import type { InventoryPath } from '../util/paths.ts';
import { nodeAt, nodeFirmware, type ResolvedNode, type SiteModel } from '../model/index.ts';
import { imageOf } from './media/index.ts';
import { metal3DiskHints, type RootDeviceHints } from './metal3-hints.ts';

/** Ironic's boot modes, as baremetal-operator spells them. */
export type Metal3BootMode = 'UEFI' | 'UEFISecureBoot' | 'legacy';

/** A BareMetalHost object (the fields harvgen writes). */
export interface BareMetalHost {
  readonly apiVersion: 'metal3.io/v1alpha1';
  readonly kind: 'BareMetalHost';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    readonly online: boolean;
    readonly bootMACAddress: string;
    readonly bootMode: Metal3BootMode;
    readonly bmc: { readonly address: string; readonly credentialsName: string; readonly disableCertificateVerification?: boolean };
    readonly rootDeviceHints?: RootDeviceHints;
    // No checksum: baremetal-operator hands a live ISO's URL alone to Ironic (GetChecksum ignores it).
    readonly image?: { readonly url: string; readonly format: 'live-iso' };
  };
}

/** A node the export leaves out or warns about (a warning) or that the operator would refuse (an error), and why. */
export interface Metal3Problem {
  readonly code: 'METAL3_NODE_NOT_EXPORTED' | 'METAL3_HOST_INVALID' | 'METAL3_ISO_OVER_IPXE';
  readonly reason: string;
  readonly hint: string;
  readonly at: InventoryPath;
}

/** The label that names the site of a BareMetalHost. */
export const METAL3_SITE_LABEL = 'harvgen.io/site';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The Secret a node's BareMetalHost names for its BMC's credentials. */
export const metal3Credentials = (node: Pick<ResolvedNode, 'hostname'>) => `${node.hostname}-bmc`;

/**
 * The boot mode Ironic sets: the node's firmware, with Secure Boot where the site boots with it
 * (`boot.secure_boot`, x86-64 UEFI machines, as the tree's shim chain). A node that boots its
 * boot ISO stays `UEFI`: the ISO's iPXE is unsigned (MEDIA_UNSUPPORTED says so), and with
 * `UEFISecureBoot` Ironic turns Secure Boot on before it boots the image (configure_secure_boot_if_needed).
 */
export function metal3BootMode(model: SiteModel, node: ResolvedNode): Metal3BootMode {
  if (nodeFirmware(model, node) !== 'uefi') return 'legacy';
  const secure = model.boot.secureBoot !== undefined && node.arch === 'x86_64' && imageOf(node) === undefined;
  return secure ? 'UEFISecureBoot' : 'UEFI';
}

/** What the export warns about a node it writes: an IPMI node's boot ISO, which Ironic boots over the network. */
export function metal3Notes(model: SiteModel, node: ResolvedNode): Metal3Problem[] {
  const image = imageOf(node);
  if (node.bmc?.type !== 'ipmi' || image === undefined || !model.metal3.export) return [];
  return [
    {
      code: 'METAL3_ISO_OVER_IPXE',
      reason: `node ${node.hostname} has an IPMI BMC, which mounts no virtual media: Ironic boots its ${image.title} (spec.image, live-iso) over the network instead. The node boots from Ironic's provisioning network (Ironic's DHCP and iPXE), and Ironic's iPXE \`sanboot\`s the image from Ironic's own HTTP server`,
      hint: "Put the node's boot NIC on Ironic's provisioning network, or give it a Redfish BMC (virtual media), or leave spec.image out where you apply it and boot the image yourself (docs/metal3.md).",
      at: nodeAt(node, 'medium'),
    },
  ];
}

/**
 * The node's BareMetalHost, or why it is left out or refused. `imageUrl`: the URL of the boot
 * image it boots (its medium's image in the tree), when it has one.
 */
export function metal3Host(model: SiteModel, node: ResolvedNode, imageUrl?: string): BareMetalHost | Metal3Problem {
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
  const bootMode = metal3BootMode(model, node);
  if (bootMode === 'UEFISecureBoot' && bmc.type === 'ipmi')
    return {
      code: 'METAL3_HOST_INVALID',
      reason: `node ${node.hostname} boots with Secure Boot (boot.secure_boot), and its BMC is IPMI: baremetal-operator refuses bootMode UEFISecureBoot for IPMI ("BMC driver ipmi does not support secure boot"), and bootMode UEFI would have Ironic boot it without Secure Boot`,
      hint: 'Give the node a Redfish BMC (`bmc.type: redfish`), which can turn Secure Boot on, or leave it out of Metal3 (no `bmc:`).',
      at: nodeAt(node, 'bmc'),
    };
  const disk = metal3DiskHints(model, node);
  if (disk.kind === 'refused')
    return { code: 'METAL3_HOST_INVALID', reason: `node ${node.hostname}: ${disk.reason}`, hint: disk.hint, at: nodeAt(node, 'install') };
  // Ironic's URL forms: virtual media over Redfish (the system's path when the inventory names it), IPMI.
  const host = bmc.host.includes(':') ? `[${bmc.host}]` : bmc.host;
  const address = bmc.type === 'redfish' ? `redfish-virtualmedia://${host}:${bmc.port}${bmc.system ?? ''}` : `ipmi://${host}:${bmc.port}`;
  return {
    apiVersion: 'metal3.io/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name: node.hostname, namespace: model.metal3.namespace, labels: { [METAL3_SITE_LABEL]: model.site } },
    spec: {
      online: true,
      bootMACAddress: node.macs[0]!,
      bootMode,
      bmc: {
        address,
        credentialsName: metal3Credentials(node),
        ...(bmc.type === 'redfish' && bmc.insecure ? { disableCertificateVerification: true } : {}),
      },
      ...(disk.kind === 'hints' ? { rootDeviceHints: disk.hints } : {}),
      ...(imageUrl !== undefined && imageOf(node) !== undefined ? { image: { url: imageUrl, format: 'live-iso' as const } } : {}),
    },
  };
}

export function isBareMetalHost(h: BareMetalHost | Metal3Problem): h is BareMetalHost {
  return (h as BareMetalHost).kind === 'BareMetalHost';
}
