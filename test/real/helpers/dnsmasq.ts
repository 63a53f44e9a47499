/**
 * Run the generated dnsmasq config for real. A dhcp-leasefile= (or similar) in the file wins
 * over the command line, so host-specific keys are filtered out of a copy and replaced.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run, startDaemon, waitFor, type Daemon, type RunResult } from './proc.ts';
import type { Netns } from './netns.ts';

/** Keys that name host paths or host interfaces; the test supplies its own values. */
const HOST_KEYS = new Set([
  'interface',
  'except-interface',
  'listen-address',
  'bind-interfaces',
  'bind-dynamic',
  'no-dhcp-interface',
  'dhcp-leasefile',
  'dhcp-lease-file',
  'pid-file',
  'tftp-root',
  'dhcp-hostsdir',
  'log-facility',
  'user',
  'group',
]);

/** Key of a config line (`key` or `key=value`), or undefined for blanks and comments. */
export function configKey(line: string): string | undefined {
  const t = line.trim();
  if (!t || t.startsWith('#')) return undefined;
  return t.split('=', 1)[0]!.trim();
}

/** Options for the test copy. */
export interface DnsmasqCopyOptions {
  iface: string;
  tftpRoot: string;
  leaseFile: string;
  /** The reservation directory (the tree's dnsmasq/hosts, or a copy); none: no dhcp-hostsdir line. */
  hostsDir?: string;
  /** Test-only lines appended after the generated ones (each documented by the caller). */
  extra?: string[];
  /** Keep the generated `interface=` lines (the test made those interfaces) instead of `iface`. */
  keepInterfaces?: boolean;
}

/** The generated config with host keys replaced (see HOST_KEYS); everything else is kept verbatim. */
export function testableDnsmasqConf(conf: string, o: DnsmasqCopyOptions): { text: string; dropped: string[] } {
  const dropped: string[] = [];
  const kept = conf.split('\n').filter((line) => {
    const k = configKey(line);
    if (k && HOST_KEYS.has(k) && !(o.keepInterfaces && k === 'interface')) {
      dropped.push(line.trim());
      return false;
    }
    return true;
  });
  const text = [
    ...kept,
    '',
    '# --- test copy: host-specific keys replaced by the test ---',
    ...(o.keepInterfaces ? [] : [`interface=${o.iface}`]),
    'bind-interfaces',
    `dhcp-leasefile=${o.leaseFile}`,
    `tftp-root=${o.tftpRoot}`,
    ...(o.hostsDir !== undefined ? [`dhcp-hostsdir=${o.hostsDir}`] : []),
    'log-dhcp',
    ...(o.extra ?? []),
    '',
  ].join('\n');
  return { text, dropped };
}

/** `dnsmasq --test --conf-file=<file>` (syntax check only). */
export function dnsmasqTest(confFile: string): Promise<RunResult> {
  return run(['dnsmasq', '--test', `--conf-file=${confFile}`], { timeoutMs: 10_000 });
}

/**
 * Start dnsmasq in the foreground (`--no-daemon`: no fork, no pid file, no user change, logs to
 * stderr) inside a namespace and wait for its "started" line. Fails with its output if it exits.
 */
export async function startDnsmasq(ns: Netns, confFile: string): Promise<Daemon> {
  const d = startDaemon('dnsmasq', ns.exec(['dnsmasq', '--no-daemon', `--conf-file=${confFile}`, '--log-facility=-']));
  // A config without DHCP (a mutation) starts with its TFTP server only.
  const ok = await waitFor(() => d.exited() || /DHCP, (IP range|proxy|sockets bound)|TFTP root is/.test(d.output()), 10_000);
  // Give it a moment to fail on a later setup step (tftp root, sockets) before declaring success.
  await new Promise((r) => setTimeout(r, 200));
  if (!ok || d.exited()) {
    await d.stop();
    throw new Error(
      `dnsmasq did not start (${d.exited() ? `exit ${d.exitCode()}` : 'timeout'})\n$ ${d.cmd}\n${d.output()}\n--- config ---\n${await readFile(confFile, 'utf8')}`,
    );
  }
  return d;
}

/** What a host running one site's dnsmasq reads: dnsmasq/global.conf, then the site's dnsmasq/harvgen.conf. */
export async function siteDnsmasqText(treeDir: string): Promise<string> {
  const parts = await Promise.all(['dnsmasq/global.conf', 'dnsmasq/harvgen.conf'].map((f) => readFile(path.join(treeDir, f), 'utf8')));
  return parts.join('\n');
}

/**
 * Write the test copy of a tree's dnsmasq files (global.conf and harvgen.conf, host keys replaced;
 * the reservations read from the tree's dnsmasq/hosts unless `hostsDir` says otherwise).
 */
export async function writeTestableConf(treeDir: string, out: string, o: DnsmasqCopyOptions): Promise<{ path: string; dropped: string[] }> {
  const hosts = path.join(treeDir, 'dnsmasq/hosts');
  const hostsDir = o.hostsDir ?? (existsSync(hosts) ? hosts : undefined);
  const { text, dropped } = testableDnsmasqConf(await siteDnsmasqText(treeDir), { ...o, ...(hostsDir !== undefined ? { hostsDir } : {}) });
  await writeFile(out, text);
  return { path: out, dropped };
}

/** `dnsmasq --test` on what one site's host reads (global.conf and harvgen.conf as generated, together). */
export async function dnsmasqTestTree(treeDir: string, work: string): Promise<RunResult> {
  const file = path.join(work, `test-${path.basename(treeDir)}.conf`);
  await writeFile(file, await siteDnsmasqText(treeDir));
  return dnsmasqTest(file);
}
