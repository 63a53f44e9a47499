// bss/bootparameters.json: every node that boots a kernel, as OpenCHAMI's Boot Script Service
// (BSS) takes it, one BootParams object per boot MAC (schema/bss-bootparameters.schema.json), so a
// site can feed BSS from the same inventory. BSS writes `initrd=initrd` and `BOOTIF=` itself
// when it serves a script, and takes one initrd per node: harvgen leaves those out of `params`,
// and a generic node with several initrds (or an iSCSI or local node) is not exported.
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { bootImages, kernelArgKey } from './kernel-args.ts';

/** One BSS BootParams object. */
export interface BssBootParams {
  readonly macs: string[];
  readonly kernel: string;
  readonly initrd: string;
  readonly params: string;
}

/** Arguments BSS writes itself when it serves a boot script. */
const BSS_OWN = new Set(['initrd', 'BOOTIF']);

/**
 * The BootParams of one boot MAC of a node, or undefined when BSS cannot express its boot. One
 * element per MAC, as harvgen's per-MAC scripts: the command line pins the installer to the NIC
 * that booted (`ip=<nic>:...`), which differs between the MACs of one node.
 */
export function bssBootParams(model: SiteModel, node: ResolvedNode, mac: string): BssBootParams | undefined {
  if (node.state === 'local' || node.boot === 'iscsi') return undefined;
  const images = bootImages(model, node, mac);
  // BSS holds one initrd per node.
  if (images.initrds.length !== 1) return undefined;
  return {
    macs: [mac],
    kernel: images.kernel,
    initrd: images.initrds[0]!.url,
    params: images.args.filter((a) => !BSS_OWN.has(kernelArgKey(a))).join(' '),
  };
}

/** The file: a JSON array, one element per exported boot MAC, in inventory order. */
export function renderBssBootParameters(model: SiteModel): string {
  const list = model.nodes.flatMap((n) => n.macs.flatMap((mac) => bssBootParams(model, n, mac) ?? []));
  return `${JSON.stringify(list, null, 2)}\n`;
}
