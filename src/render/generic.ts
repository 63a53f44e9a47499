// Nodes that do not install Harvester: generic OS nodes (a kernel, initrds, parameters and
// cloud-init NoCloud data; their script is node-install.ipxe's, renderNodeScript in ipxe.ts) and
// diskless iSCSI nodes (iPXE sanboot). The iSCSI script, cloud-init files and command lines.
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { nodeFirmware } from '../model/index.ts';
import { macToHyphen } from '../util/mac.ts';
import { renderTemplate } from './templates.ts';
import { toYaml } from './yaml.ts';

/** Where a generic node's cloud-init files for one boot MAC live in the tree (with a trailing slash). */
export function cloudInitDir(mac: string): string {
  return `cloud-init/${macToHyphen(mac)}/`;
}

/** The NoCloud seed URL of one boot MAC (`ds=nocloud;s=<this>`), ending in `/`. */
export function cloudInitSeed(model: SiteModel, mac: string): string {
  return `${model.boot.server}/${cloudInitDir(mac)}`;
}

/** Kernel arguments harvgen writes itself on a generic node's command line; a profile's `params` may not set them. */
export const RESERVED_OS_PARAMS: Readonly<Record<string, string>> = {
  BOOTIF: 'nothing: harvgen pins each script to the NIC it is served for',
  initrd: 'nothing: harvgen names the initrds on UEFI',
  ds: '`cloud_init: false` on the profile, to leave cloud-init to something else',
  root: "the profile's `root`",
};

/** Names iPXE gives a generic node's initrds (`initrd=<name>` on UEFI). */
export function initrdNames(node: ResolvedNode): string[] {
  return (node.os?.initrds ?? []).map((_, i) => `initrd${i}`);
}

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

/** The kernel command line of a generic node booting from NIC `mac`. */
export function osKernelArgs(model: SiteModel, node: ResolvedNode, mac: string): string[] {
  const os = node.os!;
  const args: string[] = [];
  if (nodeFirmware(model, node) === 'uefi') for (const n of initrdNames(node)) args.push(`initrd=${n}`);
  args.push(...os.params);
  if (os.root !== undefined) args.push(`root=${os.root}`);
  if (os.cloudInit) args.push(nocloudArg(cloudInitSeed(model, mac)));
  args.push(`BOOTIF=01-${macToHyphen(mac)}`);
  return args;
}

/**
 * The iPXE root path of an iSCSI node: `iscsi:<server>::<port>:<lun>:<target>` (RFC 4173). The
 * LUN is hexadecimal there (iPXE parses it in base 16): LUN 10 is written `a`.
 */
export function iscsiRootPath(node: ResolvedNode): string {
  const i = node.iscsi!;
  return `iscsi:${i.server}::${i.port}:${i.lun.toString(16)}:${i.target}`;
}

/** ipxe/<mac>.ipxe of a diskless iSCSI node. */
export function renderIscsiScript(model: SiteModel, node: ResolvedNode, mac: string): string {
  const i = node.iscsi!;
  return renderTemplate('node-iscsi.ipxe', {
    site: model.site,
    hostname: node.hostname,
    mac,
    ...i,
    rootPath: iscsiRootPath(node),
    retries: model.boot.retries,
    retryDelay: model.boot.retryDelay,
  });
}

/** The three NoCloud files of a generic node (the same for each of its MACs). `userDataFile` is the text of `user_data_file`. */
export function cloudInitFiles(model: SiteModel, node: ResolvedNode, userDataFile?: string): { name: string; contents: string }[] {
  const ci = node.cloudInit;
  const userData = userDataFile ?? `#cloud-config\n${toYaml(ci.userData ?? {})}`;
  // harvgen's keys win: the instance id is what tells cloud-init it is on the same machine.
  const meta = { ...(ci.metaData ?? {}), 'instance-id': `${model.site}-${node.hostname}`, 'local-hostname': node.hostname };
  return [
    { name: 'meta-data', contents: toYaml(meta) },
    { name: 'user-data', contents: userData },
    { name: 'vendor-data', contents: `#cloud-config\n${toYaml(ci.vendorData ?? {})}` },
  ];
}
