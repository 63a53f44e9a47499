// The example site's inventory as a JS object, for tests that write variants of it elsewhere.
// Its secrets are files next to site.yaml (sites/location_x/secrets/, git-ignored: the repository
// commits none); a copy in another directory gets them from the environment instead (set here).
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from './tmp.ts';
import { parse } from 'yaml';

const repo = resolve(import.meta.dirname, '../..');
process.env.HARVGEN_TEST_TOKEN = 'SecretToken.123';
process.env.HARVGEN_TEST_PASSWORD = 'SecretPassword.123';

/** sites/<name>/site.yaml parsed, with the secrets taken from HARVGEN_TEST_TOKEN/PASSWORD. */
export function exampleSite(name = 'location_x'): Record<string, Record<string, unknown>> {
  const doc = parse(readFileSync(join(repo, 'sites', name, 'site.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  doc.cluster = {
    ...doc.cluster,
    token: { env: 'HARVGEN_TEST_TOKEN' },
    ...(doc.cluster?.password !== undefined && typeof doc.cluster.password === 'object'
      ? { password: { env: 'HARVGEN_TEST_PASSWORD' } }
      : {}),
  };
  return doc;
}

/** The secret values the example sites get in tests (they commit none: docs/inventory.md "Secrets and the committed tree"). */
export const EXAMPLE_SECRETS: Readonly<Record<string, { token: string; password?: string }>> = {
  location_x: { token: 'SecretToken.123', password: 'SecretPassword.123' },
  location_y: {
    token: 'K10-location-y:cluster-token.2026',
    password: '$6$Yl0cat1onYsalt$vGFObcT7aRH39Bgh5blCnXMUvOas9CjSGBuaLv4w0v26Kg.rpPvfWpWEsKNQlQ2Yr36.B6vVTcVVjbNB3Wa821',
  },
};

/**
 * A copy of sites/<name> in a new temporary `sites/` directory with its secret files written
 * (as an operator creates them on the machine that deploys), for builds with `secrets: 'filled'`.
 * Returns the copy's site directory.
 */
export function exampleWithSecrets(name = 'location_x', into = tempDir('secrets')): string {
  const dir = join(into, 'sites', name);
  cpSync(join(repo, 'sites', name), dir, { recursive: true });
  const s = EXAMPLE_SECRETS[name]!;
  mkdirSync(join(dir, 'secrets'), { recursive: true });
  writeFileSync(join(dir, 'secrets/token'), `${s.token}\n`);
  if (s.password !== undefined) writeFileSync(join(dir, 'secrets/password'), `${s.password}\n`);
  return dir;
}

/**
 * The top of a small valid site.yaml up to `cluster:` (the cluster's keys follow, indented by
 * two); `before` is put in front of `cluster:` (other top-level sections).
 */
export function minimalSiteHead(site: string, before = ''): string {
  return `site: ${site}
harvester:
  version: v1.5.1
  artifacts: http://10.0.0.1/artifacts
boot:
  server: http://10.0.0.1
network:
  cidr: 10.0.0.0/24
  gateway: 10.0.0.1
  dns: [10.0.0.1]
  dhcp_range: 10.0.0.100-10.0.0.199
${before}cluster:
`;
}

/**
 * Give the nodes of a copy of an example site MACs of its own (by `seed`, e.g. the copy's site
 * name): two sites of one run with the same machines are SITE_MAC_DUPLICATE.
 */
export function ownMacs(doc: Record<string, unknown>, seed: string): void {
  let h = 0;
  for (const c of seed) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hex = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
  const nodes = (doc.nodes ?? []) as Record<string, unknown>[];
  nodes.forEach((n, i) => {
    const mac = `52:54:${hex(h >>> 16)}:${hex(h >>> 8)}:${hex(h)}:${hex(i + 1)}`;
    delete n.macs;
    n.mac = mac;
  });
}
