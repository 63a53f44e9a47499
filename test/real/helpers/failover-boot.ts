// What the QEMU tests of a failover pair share (failover-install, failover-split): the test kernel,
// initramfs and both failover fixtures built once, and each server's logs for a failed assertion.
import path from 'node:path';
import { ensureKernel, buildInitramfs, REPO_ROOT } from './initramfs.ts';
import { buildFixtureTrees, type SiteTree } from './tree.ts';
import type { BootPair } from './failover-pair.ts';

/** The two failover fixtures, by DHCP server. */
export const FAILOVER_FIXTURES = {
  dnsmasq: 'test/fixtures/build/failover-dnsmasq/site',
  kea: 'test/fixtures/build/failover-kea/site',
} as const;

/** The test kernel and initramfs, and both fixtures' deploy trees (built under `label`). */
export async function pairBootPrep(
  label: string,
): Promise<{ kernel: string; initrd: string; trees: Record<keyof typeof FAILOVER_FIXTURES, SiteTree> }> {
  const kernel = await ensureKernel();
  const initrd = await buildInitramfs(kernel);
  const trees = await buildFixtureTrees(label, {
    dnsmasq: path.join(REPO_ROOT, FAILOVER_FIXTURES.dnsmasq),
    kea: path.join(REPO_ROOT, FAILOVER_FIXTURES.kea),
  });
  return { kernel: kernel.vmlinuz, initrd, trees };
}

/** Each server's nginx access log, DHCP and keepalived output. */
export interface PairLogs {
  access: Record<string, string>;
  dhcp: Record<string, string>;
  keepalived: Record<string, string>;
}

/** Read a running pair's logs into `into`. */
export async function readPairLogs(p: BootPair, into: PairLogs): Promise<void> {
  for (const s of p.servers) {
    into.access[s.name] = await p.accessLog(s.name);
    into.dhcp[s.name] = s.dhcpOutput();
    into.keepalived[s.name] = s.daemons.keepalived?.output() ?? '';
  }
}

/** The tails of each server's logs, as lines of a failure report. */
export function pairLogLines(l: PairLogs, dhcpTail = 6000): string[] {
  const tail = (s: string, n: number) => s.slice(-n);
  return [
    ...Object.entries(l.access).map(([n, a]) => `nginx ${n} access log:\n${tail(a, 3000)}`),
    ...Object.entries(l.dhcp).map(([n, a]) => `DHCP ${n}:\n${tail(a, dhcpTail)}`),
    ...Object.entries(l.keepalived).map(([n, a]) => `keepalived ${n}:\n${tail(a, 1500)}`),
  ];
}
