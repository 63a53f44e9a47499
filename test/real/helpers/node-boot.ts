/**
 * What a node of the boot ISO fixture (test/fixtures/real/media) got when it booted, judged from
 * what the test initramfs printed on its serial console: the node's static `ip=` and `BOOTIF=`
 * on the kernel line, its address on the guest's NIC, and the node's own config (Harvester) or
 * NoCloud user-data (generic OS) fetched, byte for byte the tree's. Shared by the boots of
 * test/real/media.test.ts (QEMU) and test/real/bmc-emulators.test.ts (libvirt, driven by a BMC).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { markers } from './boot-log.ts';
import { cleanSerial } from './qemu.ts';
import type { SiteTree } from './tree.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Everything wrong with the boot of `hostname` (a static node whose gateway is `gateway`); [] when
 * it got what it should. `staticIp: false`: its kernel line need not carry the static `ip=` (a
 * node that boots from the network takes its reserved address from DHCP: no `ip=`, or `ip=dhcp`).
 */
export async function nodeBootProblems(
  tree: SiteTree,
  hostname: string,
  serial: string,
  gateway: string,
  opts: { staticIp?: boolean } = {},
): Promise<string[]> {
  const p: string[] = [];
  const m = markers(serial);
  if (!m.cmdline) return ['the test kernel never reached /init'];
  const node = tree.manifest.nodes.find((n) => n.hostname === hostname)!;
  const args = m.cmdline.split(/\s+/);
  const ip = args.filter((a) => a.startsWith('ip='));
  if (opts.staticIp === false && ip.every((a) => a === 'ip=dhcp')) {
    // A DHCP address: its reservation, checked on the guest's NIC below.
  } else if (ip.length !== 1 || !ip[0]!.startsWith(`ip=${node.ip}::${gateway}:255.255.255.0:${hostname}:`) || !/:none(:|$)/.test(ip[0]!))
    p.push(`kernel ip= ${ip.join(' ') || '(none)'}, expected ip=${node.ip}::${gateway}:255.255.255.0:${hostname}:<if>:none`);
  if (!args.includes(`BOOTIF=01-${node.macs[0]!.replace(/:/g, '-')}`)) p.push('no BOOTIF of the boot NIC');
  const ipLine = m.lines.find((l) => l.startsWith('HARVGEN-IP:')) ?? '';
  if (!ipLine.includes(`inet ${node.ip}/`)) p.push(`guest address: "${ipLine}", expected ${node.ip}`);
  if (node.config) {
    const rc = m.lines.find((l) => l.startsWith('HARVGEN-FETCH-RC:'));
    if (rc !== 'HARVGEN-FETCH-RC: 0') p.push(`config fetch: ${rc ?? 'never attempted'}`);
    const want = await readFile(path.join(tree.dir, node.config.path));
    if (!m.config || !m.config.equals(want)) p.push("the config the guest fetched is not the node's config file");
  } else {
    const s = cleanSerial(serial);
    const rc = /^HARVGEN-NOCLOUD-user-data-RC: (\d+)$/m.exec(s)?.[1];
    const sha = /^HARVGEN-NOCLOUD-user-data-SHA256: ([0-9a-f]{64})/m.exec(s)?.[1];
    if (rc !== '0') p.push(`user-data fetch rc ${rc ?? '(never)'}`);
    const url = node.cloud_init?.[0]?.url;
    const seed = url === undefined ? undefined : tree.manifest.files.find((f) => f.url === `${url.replace(/\/$/, '')}/user-data`);
    if (!seed) p.push('no user-data of the node in the manifest');
    else if (sha !== sha256(await readFile(path.join(tree.dir, seed.path)))) p.push('the user-data the guest fetched is not the seed file');
  }
  return p;
}

/** Why the boot is over (the test initramfs printed HARVGEN-DONE before it powered off, or the kernel panicked), for a stopWhen. */
export function nodeBootDone(serial: string): string | undefined {
  const s = cleanSerial(serial);
  for (const end of ['HARVGEN-DONE', 'Kernel panic']) if (s.includes(end)) return end;
  return undefined;
}
