// The BMC scripts (README "BMC scripts"): per node with a `bmc:`, a POSIX sh script that drives
// its BMC over Redfish (curl, jq) or IPMI (ipmitool), and bmc/all.sh, which runs one subcommand
// over several nodes. harvgen only writes them; the operator runs them. Credentials are names of
// environment variables, read by the scripts when they run; nginx never serves these files.
import { nodeFirmware } from '../model/boot.ts';
import type { ResolvedBmc, ResolvedNode, SiteModel } from '../model/types.ts';
import { uefiBootFile } from '../model/boot-files.ts';
import { mediumUrl } from '../derive/file-names.ts';
import { imageOf, isoFromLocal } from '../derive/media/index.ts';
import { renderTemplate } from './templates.ts';

/** The nodes that have a BMC script, in inventory order. */
export function bmcNodes(model: SiteModel): readonly (ResolvedNode & { readonly bmc: ResolvedBmc })[] {
  return model.nodes.filter((n): n is ResolvedNode & { readonly bmc: ResolvedBmc } => n.bmc !== undefined);
}

/** The URL a node's firmware loads iPXE from over UEFI HTTP boot ('' when the site offers none to it). */
export function httpBootUrl(model: SiteModel, node: ResolvedNode): string {
  if (!model.boot.httpBoot || nodeFirmware(model, node) !== 'uefi') return '';
  return `${model.boot.server}/${node.arch === 'arm64' ? model.boot.arm64Loader : uefiBootFile(model)}`;
}

/**
 * The Harvester ISO the BMC mounts beside a node's boot ISO ('' for none): the node's release ISO
 * when it boots from its own ISO and its installer reads `install.iso_url: local` (the device
 * labelled COS_LIVE, v1.9+; the rule MEDIA_ISO_LOCAL_INVALID holds the rest). The effective
 * config, so a `config:` key counts as the field does.
 */
export function harvesterIsoUrl(model: SiteModel, node: ResolvedNode): string {
  return imageOf(node)?.slot.bootTarget === 'Cd' && isoFromLocal(model, node) ? node.release.isoUrl : '';
}

/** bmc/<hostname>.sh of a node with a BMC. */
export function renderBmcScript(model: SiteModel, node: ResolvedNode & { readonly bmc: ResolvedBmc }): string {
  const { bmc } = node;
  const uefi = nodeFirmware(model, node) === 'uefi';
  const image = imageOf(node);
  // The node's boot ISO ('' for a node that boots from the network) and the Harvester ISO beside
  // it ('' unless install.iso_url: local): `media-boot` mounts them.
  const common = {
    site: model.site,
    hostname: node.hostname,
    userEnv: bmc.userEnv,
    passwordEnv: bmc.passwordEnv,
    mediumUrl: mediumUrl(model, node) ?? '',
    // The image's slot and one-time boot target, as its medium declares them ('' without an image).
    mediumTitle: image?.title ?? '',
    mediumTypes: image?.slot.mediaTypes.join(' ') ?? '',
    mediumSlot: image?.slot.name ?? '',
    mediumBoot: image?.slot.bootTarget ?? '',
    harvesterIsoUrl: harvesterIsoUrl(model, node),
    state: node.state,
  };
  if (bmc.type === 'ipmi')
    return renderTemplate('bmc-ipmi.sh', { ...common, host: bmc.host, port: bmc.port, bootdevOptions: uefi ? 'options=efiboot' : '' });
  return renderTemplate('bmc-redfish.sh', {
    ...common,
    address: bmc.address,
    baseUrl: `https://${bmc.address}`,
    system: bmc.system ?? '',
    insecure: bmc.insecure ? 'true' : 'false',
    bootMode: uefi ? 'UEFI' : '',
    httpBootUrl: httpBootUrl(model, node),
  });
}

/** bmc/all.sh: one subcommand over the given nodes (default: every node with a BMC). */
export function renderBmcAll(model: SiteModel): string {
  return renderTemplate('bmc-all.sh', { site: model.site, nodes: bmcNodes(model).map((n) => n.hostname) });
}
