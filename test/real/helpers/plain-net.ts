/**
 * A boot network for one VM without a generated tree: a fresh namespace with a tap holding
 * 192.168.57.1/24 (and an IPv6 ULA for the router advertisement below) and a plain dnsmasq with
 * the caller's lines, for tests of what a firmware or iPXE does with a given DHCP answer.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createNetns, type Netns } from './netns.ts';
import { startDnsmasq } from './dnsmasq.ts';
import type { Daemon } from './proc.ts';

/** The server's address on the plain network. */
export const PLAIN_SERVER = '192.168.57.1';

/** A running plain network. */
export interface PlainNet {
  ns: Netns;
  tap: string;
  dnsmasq: Daemon;
}

/**
 * Run fn with the network up and always tear it down. `lines` are the DHCP and TFTP lines (the
 * interface, lease file, range and the IPv6 router advertisement are added here).
 */
export async function withPlainNet<T>(
  label: string,
  workDir: string,
  lines: readonly string[],
  fn: (net: PlainNet) => Promise<T>,
): Promise<T> {
  const tap = 'hgtap0';
  const ns = await createNetns(label);
  try {
    await ns.sh(['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    await ns.sh(['ip', 'addr', 'add', `${PLAIN_SERVER}/24`, 'dev', tap]);
    await ns.sh(['ip', '-6', 'addr', 'add', 'fd00:4861:7276::1/64', 'dev', tap, 'nodad']);
    await ns.sh(['ip', 'link', 'set', tap, 'up']);
    const conf = path.join(workDir, 'dnsmasq.conf');
    const text = [
      'port=0',
      `interface=${tap}`,
      'bind-interfaces',
      `dhcp-leasefile=${path.join(workDir, 'dnsmasq.leases')}`,
      'dhcp-range=192.168.57.100,192.168.57.150,255.255.255.0,1h',
      'log-dhcp',
      // iPXE waits ~13 s for an IPv6 router advertisement when none comes (lab.ts).
      'enable-ra',
      `dhcp-range=::,constructor:${tap},ra-only`,
      ...lines,
      '',
    ];
    await writeFile(conf, text.join('\n'));
    const dnsmasq = await startDnsmasq(ns, conf);
    try {
      return await fn({ ns, tap, dnsmasq });
    } finally {
      await dnsmasq.stop();
    }
  } finally {
    await ns.delete();
  }
}
