// bss/bootparameters.json (`bss.export: true`): the nodes BSS can boot as harvgen's own tree boots
// them (one difference: a node with several boot MACs gets BOOTIF= from BSS itself, which only
// BSS after v1.32.2 adds), as OpenCHAMI's Boot Script Service takes them
// (schema/bss-bootparameters.schema.json).
//
// What BSS does with an entry when it serves a boot script (OpenCHAMI/bss v1.32.2 and e4894b0,
// cmd/boot-script-service/default_api.go, buildParams and buildBootScript):
// - it appends `xname=`, `nid=`, `bss_referral_token=` (etcd), `BOOTIF=01-<mac>` (e4894b0 only,
//   never in a tagged release) and `ds=nocloud-net;s=<its address>/`, each only when no word of the
//   params starts with that name;
// - with an initrd, it deletes from the FIRST occurrence of the text `initrd` anywhere in the line
//   (inside a word too) up to the next space, then puts `initrd=initrd ` in front. So params here
//   always start with the word `initrd=initrd`: that word is what BSS cuts, and a node named
//   `hv-initrd` keeps its config URL;
// - it substitutes `${SPIRE_JOIN_TOKEN}` and presigns `s3://` values of `root=live:` and
//   `metal.server=` (refused here), and its Postgres backend pastes kernel, initrd and params into
//   SQL between single quotes (a `'` is refused here).
// BSS cannot probe a disk, so a node that boots its disk or probes it first (`local`,
// `install-once`) is never exported as an unconditional install; nor is a Secure Boot node (BSS's
// script has no `shim` step). Its etcd backend keeps one
// record per node, so the MACs of one node share one entry, with params that do not depend on the
// MAC (BOOTIF left to BSS); a node whose command line differs per MAC is left out.
import type { InventoryPath } from '../util/paths.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { kernelShim } from '../model/index.ts';
import { kernelArgKey } from './kernel-args.ts';
import { bootImages } from './boot-images.ts';
import type { BootImages } from './types.ts';
import { nodeAt } from '../model/index.ts';

/** One BSS BootParams object. */
export interface BssBootParams {
  readonly macs: string[];
  readonly kernel: string;
  readonly initrd: string;
  readonly params: string;
}

/** A node the export leaves out, and why (a warning at `at`). */
export interface BssLeftOut {
  readonly node: ResolvedNode;
  readonly reason: string;
  readonly hint: string;
  readonly at: InventoryPath;
}

/** The longest params harvgen exports: BSS adds ~150 bytes plus its xname and address to the 2047-byte kernel line. */
export const BSS_MAX_PARAMS = 1791;

/** Words that make BSS rewrite a value it serves (buildParams: replaceS3Params, paramSubstitute). */
const BSS_REWRITES = /(^| )(metal.server=|root=live:)s3:\/\/|\$\{SPIRE_JOIN_TOKEN\}/i;

/** The params of one MAC as BSS should store them: `initrd=initrd` first (the word BSS cuts), no other `initrd=`. */
function paramsFor(images: BootImages): string[] {
  return ['initrd=initrd', ...images.args.filter((a) => kernelArgKey(a) !== 'initrd')];
}

/** The entry of a node, or why it is left out (undefined: nothing to export and nothing to say). */
export function bssEntry(model: SiteModel, node: ResolvedNode): BssBootParams | BssLeftOut | undefined {
  // A disk boot (`local`) or a diskless iSCSI node has no kernel for BSS to serve.
  const first = node.macs[0];
  const images = first === undefined ? undefined : bootImages(model, node, first);
  if (images === undefined) return undefined;
  const at = (field: string): InventoryPath => nodeAt(node, field);
  if (node.state === 'install-once') {
    return {
      node,
      at: at('state'),
      reason: `node ${node.hostname} is install-once: its script probes the disk and installs only when nothing is installed, and BSS cannot probe a disk (it would install on every network boot)`,
      hint: 'Leave the node out of BSS (and keep BSS from answering its MAC with a Default or role record), or give it `state: install` to install on every boot.',
    };
  }
  if (kernelShim(model, node) !== undefined) {
    return {
      node,
      at: ['boot', 'secure_boot'],
      reason: `node ${node.hostname} boots with Secure Boot: the tree hands its kernel to a shim (iPXE's \`shim\` command), and BSS's script has no such step, so the firmware would refuse the kernel`,
      hint: 'Boot Secure Boot machines from the tree, or turn Secure Boot off for them.',
    };
  }
  if (images.initrds.length !== 1) {
    return {
      node,
      at: at('os'),
      reason: `node ${node.hostname} boots ${images.initrds.length} initrds and BSS holds one`,
      hint: 'Combine the initrds into one for BSS, or boot the node from the tree only.',
    };
  }
  // The other MACs' command lines only once the node is otherwise exportable.
  const perMac = node.macs.map((mac, k) => paramsFor(k === 0 ? images : (bootImages(model, node, mac) ?? images)));
  let words = perMac[0]!;
  if (node.macs.length > 1) {
    // One entry for all MACs: BSS's etcd backend stores one record per node whatever the MAC.
    // BOOTIF is left to BSS; every MAC's cloud-init seed serves the same files, so the first one's does.
    const own = (a: string) => kernelArgKey(a) !== 'BOOTIF' && kernelArgKey(a) !== 'ds';
    const free = perMac.map((p) => p.filter(own));
    const differ = free.flatMap((p) => p.filter((a) => !free[0]!.includes(a)));
    if (differ.length > 0) {
      return {
        node,
        at: at('interfaces'),
        reason: `node ${node.hostname} has ${node.macs.length} boot MACs whose command lines differ (${differ.slice(0, 2).join(' ')}: the NIC named per MAC), and BSS's etcd backend keeps one entry per node for all of them`,
        hint: 'Name no NIC per MAC for this node (DHCP on the NIC that booted), or boot it from the tree, whose scripts are per MAC.',
      };
    }
    words = perMac[0]!.filter((a) => kernelArgKey(a) !== 'BOOTIF');
  }
  const entry: BssBootParams = { macs: [...node.macs], kernel: images.kernel, initrd: images.initrds[0]!.url, params: words.join(' ') };
  const where = node.boot === 'os' ? at('os') : ['nodes', node.index];
  for (const [field, value] of Object.entries(entry) as [string, string | string[]][]) {
    if (typeof value === 'string' && value.includes("'")) {
      return {
        node,
        at: where,
        reason: `the BSS ${field} of node ${node.hostname} has a single quote, which BSS's Postgres backend pastes into SQL unescaped`,
        hint: 'Remove the quote from the value.',
      };
    }
  }
  if (BSS_REWRITES.test(entry.params) || /^s3:/i.test(entry.kernel) || /^s3:/i.test(entry.initrd)) {
    return {
      node,
      at: where,
      reason: `node ${node.hostname} has a value BSS rewrites when it serves it (an s3:// URL or \${SPIRE_JOIN_TOKEN})`,
      hint: 'Use http(s) URLs for what BSS should serve as written.',
    };
  }
  if (entry.params.length > BSS_MAX_PARAMS) {
    return {
      node,
      at: where,
      reason: `the BSS params of node ${node.hostname} have ${entry.params.length} characters; with what BSS appends (xname=, nid=, its token, BOOTIF=, ds=) the kernel line would pass 2047`,
      hint: `Shorten kernel_args or URLs to at most ${BSS_MAX_PARAMS} characters of params.`,
    };
  }
  return entry;
}

/** Whether a bssEntry result is an entry. */
export function isBssEntry(x: BssBootParams | BssLeftOut | undefined): x is BssBootParams {
  return x !== undefined && 'params' in x;
}
