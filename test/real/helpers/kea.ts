/**
 * Run the generated Kea DHCPv4 config and ISC dhcpd snippet for real. The files are checked as
 * they are (`kea-dhcp4 -t`, `dhcpd -t -cf`); to serve DHCP in a test namespace, a copy gets the
 * test's interface, lease file and no control socket (the only host-specific keys), everything
 * else verbatim. Kea and dhcpd run in the foreground and are stopped by PID.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run, startDaemon, waitFor, type Daemon, type RunResult } from './proc.ts';
import type { Netns } from './netns.ts';

/** Where Kea keeps its pid and lock files (it has no flag for them): the test's own directory. */
function keaEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir, KEA_LOGGER_DESTINATION: 'stdout' };
}

/** The interfaces a Kea config names (`*` and `iface/addr` forms reduced to names; `*` dropped). */
export function keaInterfaces(config: string): string[] {
  // A broken copy (mutation tests) is not JSON: its interfaces list is read as text.
  const list = /"interfaces"\s*:\s*\[([^\]]*)\]/.exec(config)?.[1] ?? '';
  return [...list.matchAll(/"([^"]*)"/g)].map((m) => m[1]!.split('/')[0]!).filter((i) => i !== '' && i !== '*');
}

/**
 * `kea-dhcp4 -t <file>` (or `kea-dhcp6`), inside `ns`: Kea checks that the interfaces the config names exist, so
 * each gets a link of that name there first (a site names its boot host's NIC, e.g. `ens1f0`; a
 * veth pair, as this kernel may have no dummy driver).
 */
export async function keaTest(
  ns: Netns,
  file: string,
  workDir: string,
  program: 'kea-dhcp4' | 'kea-dhcp6' = 'kea-dhcp4',
): Promise<RunResult> {
  for (const [n, i] of keaInterfaces(await readFile(file, 'utf8')).entries()) {
    const r = await run(ns.exec(['ip', 'link', 'add', i, 'type', 'veth', 'peer', 'name', `hgkp${n}`]), { timeoutMs: 10_000 });
    if (r.code !== 0 && !r.stderr.includes('File exists')) throw new Error(`link ${i}: ${r.stderr}`);
  }
  return run(ns.exec([program, '-t', file]), { timeoutMs: 20_000, env: keaEnv(workDir) });
}

/** `dhcpd -t -cf <file>` (syntax and semantics of the config; no socket, no lease file written). */
export function dhcpdTest(file: string): Promise<RunResult> {
  return run(['dhcpd', '-t', '-4', '-q', '-cf', file], { timeoutMs: 20_000 });
}

/** Options of the test copy. */
export interface KeaCopyOptions {
  iface: string;
  leaseFile: string;
  /** Keep the generated interfaces (the test made them) instead of `iface`. */
  keepInterfaces?: boolean;
  /** Change the parsed config further (mutation tests). */
  change?: (dhcp4: Record<string, unknown>) => void;
}

/**
 * The generated config with the host-specific keys replaced: interfaces (the test's), the lease
 * file (a temp one), no control socket (no /run/kea), and socket retries (test-only: a tap has no
 * carrier until QEMU opens it, and Kea skips an interface that is not running).
 */
export function testableKeaConf(text: string, o: KeaCopyOptions): string {
  const c = JSON.parse(text) as { Dhcp4: Record<string, unknown> };
  const d = c.Dhcp4;
  const interfaces = o.keepInterfaces ? (d['interfaces-config'] as { interfaces: string[] }).interfaces : [o.iface];
  d['interfaces-config'] = { interfaces, 'service-sockets-max-retries': 600, 'service-sockets-retry-wait-time': 100 };
  d['lease-database'] = { type: 'memfile', persist: true, name: o.leaseFile, 'lfc-interval': 0 };
  delete d['control-socket'];
  d.loggers = [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'INFO' }];
  o.change?.(d);
  return `${JSON.stringify(c, null, 2)}\n`;
}

/** Start kea-dhcp4 in the foreground inside `ns` with the test copy of `generated`; waits for DHCP4_STARTED. */
export async function startKea(ns: Netns, generated: string, workDir: string, o: Omit<KeaCopyOptions, 'leaseFile'>): Promise<Daemon> {
  const conf = path.join(workDir, 'kea-dhcp4.json');
  await writeFile(conf, testableKeaConf(await readFile(generated, 'utf8'), { ...o, leaseFile: path.join(workDir, 'kea-leases4.csv') }));
  const d = startDaemon('kea-dhcp4', ns.exec(['kea-dhcp4', '-c', conf]), { env: keaEnv(workDir) });
  const ok = await waitFor(() => d.exited() || /DHCP4_STARTED/.test(d.output()), 15_000);
  if (!ok || d.exited()) {
    await d.stop();
    throw new Error(`kea-dhcp4 did not start (${d.exited() ? `exit ${d.exitCode()}` : 'timeout'})\n$ ${d.cmd}\n${d.output()}`);
  }
  return d;
}

/**
 * Start ISC dhcpd in the foreground (`-f -d`, logs on stderr) inside `ns` on `iface`, with the
 * generated snippet as its whole config (plus `conf` lines a test adds after it) and a temp lease file.
 */
export async function startDhcpd(ns: Netns, generated: string, workDir: string, iface: string, extra: string[] = []): Promise<Daemon> {
  const conf = path.join(workDir, 'dhcpd.conf');
  const leases = path.join(workDir, 'dhcpd.leases');
  await writeFile(conf, [await readFile(generated, 'utf8'), ...extra, ''].join('\n'));
  await writeFile(leases, '');
  const d = startDaemon(
    'dhcpd',
    ns.exec(['dhcpd', '-f', '-d', '-4', '-cf', conf, '-lf', leases, '-pf', path.join(workDir, 'dhcpd.pid'), iface]),
  );
  const ok = await waitFor(() => d.exited() || /Sending on +LPF\//.test(d.output()), 15_000);
  if (!ok || d.exited()) {
    await d.stop();
    throw new Error(`dhcpd did not start (${d.exited() ? `exit ${d.exitCode()}` : 'timeout'})\n$ ${d.cmd}\n${d.output()}`);
  }
  return d;
}
