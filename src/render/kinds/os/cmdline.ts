// The kernel command line of a generic OS node, and its cloud-init NoCloud seed.
import type { OsNode, SiteModel } from '../../../model/index.ts';
import { nodeFirmware } from '../../../model/index.ts';
import { macToHyphen } from '../../../util/mac.ts';
import type { BootImages } from '../types.ts';
import { cloudInitPath } from '../../file-names.ts';

/** The NoCloud seed URL of one boot MAC (`ds=nocloud;s=<this>`), ending in `/`. */
export function cloudInitSeed(model: SiteModel, mac: string): string {
  return `${model.boot.server}/${cloudInitPath(model, mac)}`;
}

/** Kernel arguments harvgen writes itself on a generic node's command line; a profile's `params` may not set them. */
export const RESERVED_OS_PARAMS: Readonly<Record<string, string>> = {
  BOOTIF: 'nothing: harvgen pins each script to the NIC it is served for',
  initrd: 'nothing: harvgen names the initrds on UEFI',
  ds: '`cloud_init: false` on the profile, to leave cloud-init to something else',
  root: "the profile's `root`",
};

/**
 * The kernel argument that points cloud-init's NoCloud data source at a seed URL, for every
 * cloud-init: `ds=nocloud;s=<url>` alone is fetched but not used before 23.2 (the data source stays
 * in local mode, so the network stage exits before it reads user-data, cloudinit/cmd/main.py
 * main_init); `dsmode=net` says the network stage is the one. Checked with cloud-init's own code
 * (Debian 12's 22.4.2, 13's 25.1.4, sid's 26.2) in test/real/cloud-init.test.ts. `ds=nocloud-net`
 * works there too, but is deprecated from 24.1 (a degraded `cloud-init status`).
 */
export function nocloudArg(seed: string): string {
  return `ds=nocloud;s=${seed};dsmode=net`;
}

/** The kernel, initrds (named `initrd<k>`, as iPXE and the command line call them on UEFI) and command line of a generic node booting from NIC `mac`. */
export function osImages(model: SiteModel, node: OsNode, mac: string): BootImages {
  const os = node.os;
  const names = os.initrds.map((_, i) => `initrd${i}`);
  const args: string[] = [];
  if (nodeFirmware(model, node) === 'uefi') for (const n of names) args.push(`initrd=${n}`);
  args.push(...os.params);
  if (os.root !== undefined) args.push(`root=${os.root}`);
  if (os.cloudInit) args.push(nocloudArg(cloudInitSeed(model, mac)));
  args.push(`BOOTIF=01-${macToHyphen(mac)}`);
  return { kernel: os.kernel, initrds: os.initrds.map((url, i) => ({ name: names[i] ?? `initrd${i}`, url })), args };
}
