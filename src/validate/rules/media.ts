// Boot ISOs (`medium: iso`, src/render/media.ts): what the ISO must write as data to reach the
// boot server with no DHCP, and what it can boot. Both firmwares run iPXE (ipxe.lkrn, ipxe.efi)
// with the ISO's script, then the node's own script: any URL iPXE can fetch.
import { effectiveConfig } from '../../derive/harvester/effective.ts';
import { atLeast } from '../../harvester/versions.ts';
import { ipv4Dns, nodeAt, type ResolvedNode, type SiteModel } from '../../model/index.ts';
import { imageOf, isoFromLocal, mediumAllow, type MediumImage } from '../../derive/media/index.ts';
import { parseIpv4 } from '../../util/ipv4.ts';
import { PROFILE_LAYER, REPO_LAYER } from '../../types/layers.ts';
import { eachNode, type Finding, type Rule } from '../rule.ts';

export const mediaRule: Rule = {
  name: 'media',
  codes: [
    'MEDIA_NEEDS_STATIC',
    'MEDIA_NEEDS_LOADERS',
    'MEDIA_UNSUPPORTED',
    'MEDIA_BMC_REFUSED',
    'MEDIA_ISO_LOCAL_INVALID',
    'MEDIA_VLAN_UNTAGGED',
    'NODE_SETTING_IGNORED',
  ],
  check(ctx) {
    const { model } = ctx;
    for (const f of mediumImageIgnored(model)) ctx.report(f);
    eachNode(ctx, 'media', (node, report) => {
      const local = isoLocal(model, node);
      if (local) report({ node: node.hostname, target: 'key', ...local });
      const image = imageOf(node);
      if (!image) return;
      const at = nodeAt(node, 'medium');
      const say = (f: Omit<Finding, 'node' | 'at'> & { at?: Finding['at'] }) => report({ node: node.hostname, at, target: 'key', ...f });
      for (const problem of [unsupported(node, image), needsStatic(model, node, image)]) if (problem) say(problem);
      if (model.boot.mediaLoaders === undefined)
        say({
          code: 'MEDIA_NEEDS_LOADERS',
          message: `node ${node.hostname} boots from a ${image.title} (medium: ${node.medium}), and the site names no boot.media_loaders to make it from`,
          hint: `Set boot.media_loaders to the directory of the boot programs (${image.loaders.join(', ')}): docs/install-without-pxe.md, "The boot programs".`,
        });
      if (model.boot.secureBoot !== undefined)
        say({
          code: 'MEDIA_UNSUPPORTED',
          severity: 'warning',
          message: `node ${node.hostname}'s ${image.title} boots only with Secure Boot off: its iPXE (ipxe.efi) is not signed by a key the firmware trusts`,
          hint: `Turn Secure Boot off in the node's firmware for the install from its ${image.title} (docs/install-without-pxe.md, "The boot programs"), or boot it from the network.`,
        });
      if (node.boot === 'harvester' && node.vlan !== undefined && node.vlan > 1)
        say({
          code: 'MEDIA_VLAN_UNTAGGED',
          at: nodeAt(node, 'vlan'),
          message: `node ${node.hostname} is on VLAN ${node.vlan}, and its ${image.title} sends untagged: the image's script tags no VLAN, so the image, and the installer it starts, reach the boot server untagged`,
          hint: 'Give the boot NIC\'s switch port this VLAN untagged (native) for the install, and tagged once the node is installed: the installed system tags it as its config says (docs/install-without-pxe.md, "VLANs").',
        });
      if (model.nginx.access === 'nodes' && mediumAllow(node).length === 0) {
        const hint =
          'Give the node\'s bmc.address as the IPv4 address its BMC fetches from, or serve the tree with nginx.access: open, which serves the image to every address and keeps its nodes\' configs and seeds to their own addresses (docs/install-without-pxe.md, "Who may fetch an ISO").';
        // nginx allows an image to IPv4 addresses only (allow takes no name): a BMC given by a name
        // or an IPv6 address asks from an address nginx refuses, always; `media-boot` then fails
        // with the BMC's 403. Without a BMC the image may still reach the machine by hand (a USB
        // stick written from the deploy tree, an upload through the BMC's web console): a warning.
        if (node.bmc === undefined)
          say({
            code: 'MEDIA_BMC_REFUSED',
            severity: 'warning',
            message: `node ${node.hostname} has no bmc.address: nginx (nginx.access: nodes) serves its ${image.title} to nobody`,
            hint,
          });
        else
          say({
            code: 'MEDIA_BMC_REFUSED',
            at: nodeAt(node, 'bmc.address'),
            target: 'value',
            message: `node ${node.hostname}'s bmc.address ${node.bmc.host} is not an IPv4 address: nginx (nginx.access: nodes) allows its ${image.title} to IPv4 addresses only, so the BMC's download (\`bmc/${node.hostname}.sh media-boot\`) gets 403`,
            hint,
          });
      }
    });
  },
};

/**
 * `medium_image` where no node that takes it boots from an image (a network node's): reported
 * where it is written, once per place; a shared layer some image node reads is not reported, nor
 * the repository's and profiles' layers, which other sites share.
 */
function mediumImageIgnored(model: SiteModel): Finding[] {
  const read = new Set<string>();
  const unread = new Map<string, { at: Finding['at']; nodes: string[]; medium: string }>();
  for (const node of model.nodes) {
    const at = node.sources['medium_image'];
    if (at === undefined || at[0] === REPO_LAYER || at[0] === PROFILE_LAYER) continue;
    const key = at.join('\u0000');
    if (imageOf(node)) read.add(key);
    else {
      const seen = unread.get(key);
      if (seen) seen.nodes.push(node.hostname);
      else unread.set(key, { at, nodes: [node.hostname], medium: node.medium });
    }
  }
  const found: Finding[] = [];
  for (const [key, { at, nodes, medium }] of unread) {
    if (read.has(key)) continue;
    const who =
      nodes.length === 1
        ? `node ${nodes[0]} boots`
        : `nodes ${nodes.slice(0, 10).join(', ')}${nodes.length > 10 ? ` and ${nodes.length - 10} more` : ''} boot`;
    found.push({
      code: 'NODE_SETTING_IGNORED',
      severity: 'warning',
      message: `\`medium_image\` is ignored: ${who} with medium: ${medium}, which has no image`,
      hint: 'Remove it, or give the node a medium with an image (`medium: iso` or `medium: usb`).',
      at,
      target: 'key',
      ...(nodes.length === 1 ? { node: nodes[0] } : {}),
    });
  }
  return found;
}

/** Why the image cannot boot this node at all, if it cannot. */
function unsupported(node: ResolvedNode, image: MediumImage): Omit<Finding, 'node' | 'at'> | undefined {
  const no = (why: string, hint: string) => ({ code: 'MEDIA_UNSUPPORTED' as const, message: `node ${node.hostname}: ${why}`, hint });
  if (node.boot === 'iscsi')
    return no(
      `an iSCSI node from a ${image.title} is not supported: its script would sanboot the target over the image's static address, which no test here has shown`,
      'Boot iSCSI nodes from the network (medium: network).',
    );
  if (node.arch !== 'x86_64')
    return no(
      `the ${image.title}'s programs are for x86-64, and this node is ${node.arch}`,
      'Boot arm64 nodes from the network (medium: network).',
    );
  return undefined;
}

/** What the image needs to write the node's network as data: a static address, and a DNS server when the boot server is named. */
function needsStatic(model: SiteModel, node: ResolvedNode, image: MediumImage): Omit<Finding, 'node' | 'at'> | undefined {
  if (node.method !== 'static' || node.ip === undefined)
    return {
      code: 'MEDIA_NEEDS_STATIC',
      message: `node ${node.hostname} boots from a ${image.title} (medium: ${node.medium}), which gets no DHCP, and has ${node.ip === undefined ? 'no ip' : '`method: dhcp`'}`,
      hint: "Give the node `method: static` and its `ip` (with prefix, gateway and dns, or the network's): the image's script writes them on its boot NIC.",
    };
  const host = /^https?:\/\/([^/:]+)/.exec(model.boot.server)?.[1] ?? '';
  if (parseIpv4(host) === undefined && ipv4Dns(node).length === 0)
    return {
      code: 'MEDIA_NEEDS_STATIC',
      message: `boot.server names the host ${host}, and node ${node.hostname} has no DNS server to resolve it with (its ${image.title} gets no DHCP)`,
      hint: 'Give the node (or network) `dns`, or name the boot server by its address.',
    };
  return undefined;
}

/**
 * `install.iso_url: local` (harvester/harvester v1.9 `package/harvester-os/files/usr/sbin/harv-install`,
 * `get_iso`): the installer mounts what is mounted at /run/initramfs/live, else the device labelled
 * COS_LIVE, and exits 1 when there is neither, after it has written the disk. A node that boots
 * over the network (root=live:http://...) has neither; a node with a boot ISO has one when its BMC
 * mounts the Harvester ISO beside it. Before v1.9, `check_iso` runs `check_url local` (`test -f
 * local`) and the install stops (harvester-installer v1.8.1, the same script).
 */
function isoLocal(model: SiteModel, node: ResolvedNode): Omit<Finding, 'node' | 'target'> | undefined {
  if (!isoFromLocal(model, node)) return undefined;
  const at = effectiveConfig(model, node).at('install.iso_url');
  const v = node.release.version;
  if (!atLeast(v, '1.9'))
    return {
      code: 'MEDIA_ISO_LOCAL_INVALID',
      message: `install.iso_url: local on node ${node.hostname}, which installs Harvester ${v.raw}: its installer takes "local" for a file path, finds none and stops the install (\`local\` is new in v1.9)`,
      hint: 'Remove it (the installer then downloads harvester.iso_url), or install v1.9 or later.',
      at,
    };
  // The BMC script mounts the Harvester ISO in a second slot beside an image in the virtual CD.
  if (imageOf(node)?.slot.bootTarget !== 'Cd')
    return {
      code: 'MEDIA_ISO_LOCAL_INVALID',
      message: `install.iso_url: local on node ${node.hostname}, which boots ${imageOf(node) ? `from a ${imageOf(node)!.title}` : 'from the network'}: no device labelled COS_LIVE is there (the BMC script mounts the Harvester ISO beside a boot ISO only), and the installer stops after it has written the disk`,
      hint: 'Give the node `medium: iso` (its BMC then mounts the Harvester ISO beside the boot ISO), or remove `iso_url: local`.',
      at,
    };
  return undefined;
}
