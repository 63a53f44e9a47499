// What test/status.test.ts and test/cli-status.test.ts share: a site of one node per verdict and
// the synthetic nginx log of its boots.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NodeStatus } from '../../src/status/index.ts';
import { minimalSiteHead } from './example.ts';
import { tempDir } from './tmp.ts';

export const NODES = [
  ['never', 1, 'local'],
  ['boot', 2, 'install'],
  ['disk', 3, 'local'],
  ['inst', 4, 'install'],
  ['done', 5, 'install'],
  ['fail', 6, 'install'],
  ['loop', 7, 'install'],
] as const;

/** A site of one node per verdict (`name`'s own directory under `root`, a fresh temporary one by default). */
export function site(name = 'st', root = tempDir('status')): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const nodes = NODES.map(
    ([h, i, state]) =>
      `  - hostname: ${h}\n    mac: 52:54:00:00:00:0${i}\n    ip: 10.0.0.${10 + i}\n    state: ${state}\n    role: ${i === 1 ? 'create' : 'join'}\n`,
  ).join('');
  writeFileSync(
    join(dir, 'site.yaml'),
    `${minimalSiteHead(name)}  vip: 10.0.0.5\n  token: { env: HARVGEN_TOKEN }\n  password: { env: HARVGEN_PASSWORD }\ndefaults:\n  install:\n    device: /dev/disk/by-path/pci-0000:00:04.0\nnodes:\n${nodes}`,
  );
  return dir;
}

export const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);

export function line(ip: string, minutes: number, path: string, code: number): string {
  const d = new Date(T0 + minutes * 60_000);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p2 = (n: number) => String(n).padStart(2, '0');
  const t = `${p2(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
  return `${ip} - - [${t}] "GET ${path} HTTP/1.1" ${code} 512 "-" "iPXE/1.21.1+"`;
}

/** One failover server's keepalived check marks (src/status/holders.ts), every 2 s from `from` to `to` seconds after T0, from `ip`. */
export const holderMarks = (server: string, ip: string, from: number, to: number): string[] =>
  Array.from({ length: Math.floor((to - from) / 2) + 1 }, (_, i) =>
    line(ip, (from + 2 * i) / 60, `/boot.ipxe?harvgen-holder=${server}`, 200),
  );

export const ART = '/artifacts/harvester-v1.5.1';

export const ev = (h: string, e: string, i: number) => `/harvgen-events/${h}/${e}?mac=52:54:00:00:00:0${i}&ip=10.0.0.${10 + i}`;

export function install(h: string, i: number, at: number, events: string[]): string[] {
  const ip = `10.0.0.${10 + i}`;
  return [
    line(ip, at, `/ipxe/52-54-00-00-00-0${i}.ipxe`, 200),
    line(ip, at + 1, `${ART}-vmlinuz-amd64`, 200),
    line(ip, at + 1, `${ART}-initrd-amd64`, 200),
    line(ip, at + 2, `${ART}-rootfs-amd64.squashfs`, 200),
    line(ip, at + 3, `/harvester/${h}.yaml`, 200),
    ...events.map((e, k) => line(ip, at + 4 + k * 10, ev(h, e, i), 204)),
  ];
}

export function logs(): string[] {
  return [
    line('10.0.0.12', 5, '/ipxe/52-54-00-00-00-02.ipxe', 200),
    line('10.0.0.13', 6, '/ipxe/52-54-00-00-00-03.ipxe', 200),
    ...install('inst', 4, 10, ['STARTED']),
    // A forged SUCCEEDED for inst, from an address that is no node's.
    line('10.0.0.99', 40, ev('inst', 'SUCCEEDED', 4), 204),
    ...install('done', 5, 10, ['STARTED', 'SUCCEEDED']),
    ...install('fail', 6, 10, ['STARTED', 'FAILED']),
    ...install('loop', 7, 10, ['STARTED', 'SUCCEEDED']),
    ...install('loop', 7, 30, ['STARTED']),
    // boot's config refused: it booted from an address that is not its own.
    line('10.0.0.150', 7, '/harvester/boot.yaml', 403),
    // An unknown MAC: its script is 404, then unknown.ipxe reports it.
    line('10.0.0.160', 8, '/ipxe/52-54-00-ff-00-01.ipxe', 404),
    line('10.0.0.160', 8, '/unknown.ipxe', 200),
    line(
      '10.0.0.160',
      8,
      '/harvgen-discover?mac=52-54-00-ff-00-01&ip=10.0.0.160&uuid=4c4c4544-0042-3510-8051-b2c04f4e3732&serial=SN%20123&manufacturer=Dell%20Inc.&product=PowerEdge%20R650&platform=efi',
      204,
    ),
    'not a log line at all',
  ];
}

/**
 * A longer log in time order, as nginx writes it: every line of `logs()`, then reboots, another
 * install and a verify run's probes, over 8 KiB (more than a cursor's 4 KiB head).
 */
export function sortedLog(): string {
  const more: string[] = [];
  for (let i = 0; i < 40; i++) {
    more.push(line('10.0.0.13', 60 + i * 3, '/ipxe/52-54-00-00-00-03.ipxe', 200));
    more.push(line('10.0.0.12', 61 + i * 3, `${ART}-vmlinuz-amd64`, 200));
  }
  more.push(...install('fail', 6, 200, ['STARTED', 'SUCCEEDED']));
  more.push(line('10.0.0.1', 230, '/ipxe/02-68-67-00-00-01.ipxe', 404).replace(/"iPXE\/[^"]*"$/, '"harvgen-verify/0.1.0"'));
  more.push(line('10.0.0.161', 231, '/ipxe/52-54-00-ff-00-02.ipxe', 404));
  // Day, hour, minute and second of a line (the test lines are all of November 2026); 0 for a line of no request.
  const at = (l: string) => {
    const m = /\[(\d{2})\/Nov\/2026:(\d{2}):(\d{2}):(\d{2})/.exec(l);
    return m ? ((Number(m[1]) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4]) : 0;
  };
  const all = [...logs(), ...more].map((l, i) => ({ l, i, t: at(l) }));
  return `${all
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((k) => k.l)
    .join('\n')}\n`;
}

export function byHost(nodes: readonly NodeStatus[]): Record<string, NodeStatus> {
  return Object.fromEntries(nodes.map((n) => [n.hostname, n]));
}
