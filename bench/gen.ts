// Generated inventories for `npm run bench`: a repository (with a `.git` directory) with `sites`
// sites of `nodes` nodes each, one YAML file per node (as a fleet keeps them), and one shared
// token and password file (sites/<site>/site.yaml names ../../secrets/...). Every site has its own /16, boot server and
// MAC prefix, so the sites pass the checks between sites.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');

/** The directory of site `i` (0-based) in a generated repository. */
export function siteName(i: number): string {
  return `s${String(i).padStart(3, '0')}`;
}

/** The node file that holds node `k` of a site. */
export function nodeFile(root: string, site: number, k: number): string {
  return join(root, 'sites', siteName(site), 'nodes', `n${String(k).padStart(5, '0')}.yaml`);
}

/** The text of node `k` of site `i`. */
export function nodeText(i: number, k: number): string {
  const hex = k.toString(16).padStart(4, '0');
  const site = (i + 1).toString(16).padStart(2, '0');
  return `mac: 52:54:${site}:10:${hex.slice(0, 2)}:${hex.slice(2)}\nip: 10.${100 + i}.${1 + Math.floor(k / 250)}.${1 + (k % 250)}\n`;
}

/** Write a repository of `sites` x `nodes` under `root`; returns the site directories. */
export function generateRepo(root: string, sites: number, nodes: number): string[] {
  if (sites > 150 || nodes > 250 * 200) throw new Error('bench: too many sites or nodes for the address plan');
  // A repository (README "Safety": harvgen reads nothing outside it, so the shared secrets/ and
  // layers beside sites/ need one): `.git` marks its root.
  mkdirSync(join(root, '.git'), { recursive: true });
  mkdirSync(join(root, 'secrets'), { recursive: true });
  writeFileSync(join(root, 'secrets/token'), 'bench-token-0123456789abcdef\n');
  writeFileSync(join(root, 'secrets/password'), 'bench-password\n');
  const template = readFileSync(join(repo, 'sites/location_x/site.yaml'), 'utf8');
  const dirs: string[] = [];
  for (let i = 0; i < sites; i++) {
    const net = `10.${100 + i}`; // clear of the default pod and service networks (10.52, 10.53)
    const dir = join(root, 'sites', siteName(i));
    mkdirSync(join(dir, 'nodes'), { recursive: true });
    const site = template
      .replace('site: location_x', `site: ${siteName(i)}`)
      .replace('cidr: 192.168.122.0/24', `cidr: ${net}.0.0/16`)
      .replace('dhcp_range: 192.168.122.150-192.168.122.250', `dhcp_range: ${net}.220.1-${net}.220.250`)
      .replace(/192\.168\.122\./g, `${net}.0.`)
      .replace(/\{ file: secrets\//g, '{ file: ../../secrets/')
      .replace(/nodes:[\s\S]*?\n\nlab:/, 'lab:')
      .replace('network_name: vlan1', `network_name: net${i}`)
      .replace('bridge: virbr1', `bridge: virbr${i + 10}`);
    writeFileSync(join(dir, 'site.yaml'), site);
    for (let k = 0; k < nodes; k++) writeFileSync(nodeFile(root, i, k), nodeText(i, k));
    dirs.push(dir);
  }
  return dirs;
}
