// A generated fleet for `npm run bench:fleet-status`: a repository of `sites` sites of `nodes`
// nodes (one YAML file per node, as a fleet keeps them) and, per site, the access logs of its boot
// server as collected to the center (`<root>/logs/<site>/access.log`, `access.log.1`,
// `access.log.2.gz`) in the combined format the generated nginx config logs, with the traffic of
// real boots: the entry script, the node's script, kernel, initrd, rootfs, config, the installer's
// STARTED and SUCCEEDED (some FAILED), some nodes that never boot, unknown MACs that ask and
// report themselves, and harvgen verify's sweeps. Half the sites have the materializer's
// state.json beside their logs. bench/gen.ts (the build bench's inventories, at most 150 sites)
// is left as it is: this address plan is its own, a /22 per site from 10.64.0.0 on (up to 4,096 sites).
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const repo = resolve(import.meta.dirname, '..');

export function fleetSiteName(i: number): string {
  return `f${String(i).padStart(4, '0')}`;
}

/** The first three octets of site `i`'s /22, as [a, b]: 10.a.b.0/22. */
function net(i: number): [number, number] {
  return [64 + (i >> 6), (i & 63) * 4];
}

function mac(i: number, k: number): string {
  const h = (n: number) => n.toString(16).padStart(2, '0');
  return `52:54:${h(i >> 8)}:${h(i & 255)}:${h(k >> 8)}:${h(k & 255)}`;
}

function nodeIp(i: number, k: number): string {
  const [a, b] = net(i);
  return `10.${a}.${b + 1 + (k >> 8)}.${(k & 255) + 1}`;
}

/** The time of the first request of every site's log (a Monday). */
export const LOG_START = Date.UTC(2026, 10, 16, 8, 0, 0);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

function logLine(ip: string, t: number, path: string, status: number, agent: string, bytes = 512): string {
  const d = new Date(t);
  const time = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
  return `${ip} - - [${time}] "GET ${path} HTTP/1.1" ${status} ${bytes} "-" "${agent}"\n`;
}

const IPXE = 'iPXE/1.21.1+ (g4bd064de)';
const GO = 'Go-http-client/1.1';
const VERIFY = 'harvgen-verify/0.1.0';

/** The release files a node of the template fetches (its kernel, initrd, rootfs paths). */
const RELEASE = '/artifacts/v1.4.1/harvester-v1.4.1';
const BOOT_FILES = [`${RELEASE}-vmlinuz-amd64`, `${RELEASE}-initrd-amd64`, `${RELEASE}-rootfs-amd64.squashfs`];

/** One site's requests, in time order, from `from` (ms) on; `extra` > 0 writes only that many later lines (the appended 1%). */
export function siteTraffic(i: number, nodes: number): string[] {
  const [a, b] = net(i);
  const server = `10.${a}.${b}.1`;
  const lines: { t: number; l: string }[] = [];
  const add = (t: number, l: string) => lines.push({ t, l });
  for (let k = 0; k < nodes; k++) {
    if (k % 20 === 19) continue; // never boots (cabling, BIOS boot order)
    const ip = nodeIp(i, k);
    const m = mac(i, k);
    const dashed = m.replaceAll(':', '-');
    let t = LOG_START + k * 20_000 + (i % 60) * 1000;
    // Some boot twice before installing (a PXE retry).
    for (let tries = k % 10 === 5 ? 2 : 1; tries > 0; tries--) {
      add(t, logLine(ip, t, '/boot.ipxe', 200, IPXE, 1104));
      add(t + 1000, logLine(ip, t + 1000, `/ipxe/${dashed}.ipxe`, 200, IPXE, 890));
      t += 3000;
    }
    BOOT_FILES.forEach((f, n) => add(t + n * 4000, logLine(ip, t + n * 4000, f, 200, IPXE, 150_000_000)));
    t += 60_000;
    add(t, logLine(ip, t, `/harvester/n${String(k).padStart(5, '0')}.yaml`, 200, GO, 3000));
    const ev = (e: string, at: number) =>
      add(at, logLine(ip, at, `/harvgen-events/n${String(k).padStart(5, '0')}/${e}?mac=${m}&ip=${ip}`, 204, GO, 0));
    ev('STARTED', t + 120_000);
    ev(k % 33 === 7 ? 'FAILED' : 'SUCCEEDED', t + 1_200_000);
  }
  // Unknown machines: a 404 for their script, unknown.ipxe, their report.
  for (let u = 0; u < 3; u++) {
    const t = LOG_START + 3_600_000 * (u + 1);
    const um = `52:54:ff:${(i & 255).toString(16).padStart(2, '0')}:00:${p2(u)}`;
    const ip = `10.${a}.${b + 3}.${10 + u}`;
    add(t, logLine(ip, t, `/ipxe/${um.replaceAll(':', '-')}.ipxe`, 404, IPXE, 0));
    add(t + 500, logLine(ip, t + 500, '/unknown.ipxe', 200, IPXE, 700));
    add(
      t + 1500,
      logLine(
        ip,
        t + 1500,
        `/harvgen-discover?mac=${um.replaceAll(':', '-')}&uuid=4c4c4544-0042-3510-8051-b2c04f4e37${p2(u)}&serial=SN${i}${u}&manufacturer=Dell%20Inc.&product=PowerEdge%20R650&platform=efi`,
        204,
        IPXE,
        0,
      ),
    );
  }
  // harvgen verify from the boot server, every 6 hours over two days: probes and the entry script.
  for (let s = 0; s < 8; s++) {
    const t = LOG_START + s * 6 * 3_600_000 + 30_000;
    add(t, logLine(server, t, '/boot.ipxe', 200, VERIFY, 1104));
    for (let q = 0; q < 6; q++) add(t + q, logLine(server, t + q, `/ipxe/02-68-67-00-00-${p2(q)}.ipxe`, 404, VERIFY, 0));
    add(t + 10, logLine(server, t + 10, '/manifest.json', 404, VERIFY, 0));
  }
  return lines.sort((x, y) => x.t - y.t).map((x) => x.l);
}

/** 1% more lines for a site, later than its log: reboots of some nodes and a verify sweep. */
export function siteAppend(i: number, nodes: number, count: number): string {
  let out = '';
  const t0 = LOG_START + 3 * 86_400_000;
  for (let n = 0; n < count; n++) {
    const k = (n * 7) % nodes;
    const t = t0 + n * 5000;
    out += logLine(nodeIp(i, k), t, `/ipxe/${mac(i, k).replaceAll(':', '-')}.ipxe`, 200, IPXE, 890);
  }
  return out;
}

/** Write the fleet under `root`; returns the site directories. */
export function generateFleet(root: string, sites: number, nodes: number): string[] {
  if (sites > 4096 || nodes > 250) throw new Error('gen-fleet: at most 4,096 sites of 250 nodes in this address plan');
  mkdirSync(join(root, '.git'), { recursive: true });
  mkdirSync(join(root, 'secrets'), { recursive: true });
  writeFileSync(join(root, 'secrets/token'), 'bench-token-0123456789abcdef\n');
  writeFileSync(join(root, 'secrets/password'), 'bench-password\n');
  const template = readFileSync(join(repo, 'sites/location_x/site.yaml'), 'utf8');
  const dirs: string[] = [];
  for (let i = 0; i < sites; i++) {
    const [a, b] = net(i);
    const name = fleetSiteName(i);
    const dir = join(root, 'sites', name);
    mkdirSync(join(dir, 'nodes'), { recursive: true });
    const site = template
      .replace('site: location_x', `site: ${name}`)
      .replace('cidr: 192.168.122.0/24', `cidr: 10.${a}.${b}.0/22`)
      .replace('dhcp_range: 192.168.122.150-192.168.122.250', `dhcp_range: 10.${a}.${b + 3}.1-10.${a}.${b + 3}.250`)
      .replace(/192\.168\.122\./g, `10.${a}.${b}.`)
      .replace(/\{ file: secrets\//g, '{ file: ../../secrets/')
      .replace(/nodes:[\s\S]*?\n\nlab:/, 'lab:')
      .replace('network_name: vlan1', `network_name: net${i}`)
      .replace('bridge: virbr1', `bridge: virbr${i + 10}`);
    writeFileSync(join(dir, 'site.yaml'), site);
    for (let k = 0; k < nodes; k++)
      writeFileSync(
        join(dir, 'nodes', `n${String(k).padStart(5, '0')}.yaml`),
        `${k === 0 ? 'role: create\n' : ''}mac: ${mac(i, k)}\nip: ${nodeIp(i, k)}\n`,
      );
    // The logs, rotated: the oldest 40% gzipped, the next 30% in access.log.1, the rest current.
    const lines = siteTraffic(i, nodes);
    const logs = join(root, 'logs', name);
    mkdirSync(logs, { recursive: true });
    const c1 = Math.floor(lines.length * 0.4);
    const c2 = Math.floor(lines.length * 0.7);
    writeFileSync(join(logs, 'access.log.2.gz'), gzipSync(lines.slice(0, c1).join(''), { level: 1 }));
    writeFileSync(join(logs, 'access.log.1'), lines.slice(c1, c2).join(''));
    writeFileSync(join(logs, 'access.log'), lines.slice(c2).join(''));
    if (i % 2 === 0)
      writeFileSync(
        join(logs, 'state.json'),
        JSON.stringify({
          format: 1,
          site: name,
          digest: `sha256:${'0'.repeat(64)}`,
          switched_at: new Date(LOG_START - 3_600_000).toISOString(),
        }),
      );
    dirs.push(dir);
  }
  return dirs;
}

/** Append 1% more lines to every site's current log; returns the lines appended. */
export function appendFleet(root: string, sites: number, nodes: number): number {
  let total = 0;
  for (let i = 0; i < sites; i++) {
    const count = Math.max(1, Math.round(siteTraffic(i, nodes).length / 100));
    appendFileSync(join(root, 'logs', fleetSiteName(i), 'access.log'), siteAppend(i, nodes, count));
    total += count;
  }
  return total;
}
