// Several sites on one boot server: each under its own path prefix, each with a locations file
// for one shared server block; sites that would answer each other's machines are refused.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { check, compileSite } from '../src/index.ts';
import { tempDir } from './helpers/tmp.ts';
import { runCli } from './helpers/cli.ts';
import { exampleSite, ownMacs } from './helpers/example.ts';

const base = exampleSite();

/** A copy of location_x named `name`, served at `server`, with its release files at `artifacts`. */
function site(root: string, name: string, server: string, artifacts: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const doc = structuredClone(base);
  doc.site = name as never;
  ownMacs(doc, name);
  doc.boot = { ...doc.boot, server };
  doc.harvester = { ...doc.harvester, artifacts };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

test('two sites at the same boot server URL are SITE_SERVER_CONFLICT, at the second boot.server', async () => {
  const root = tempDir('shared');
  const a = site(root, 'site_a', 'http://192.168.122.1', 'http://192.168.122.1/artifacts/v1.4.1');
  const b = site(root, 'site_b', 'http://192.168.122.1:80/', 'http://192.168.122.1/artifacts/v1.4.1');
  const r = await check({ sites: [a, b] });
  assert.not.ok(r.ok);
  const d = r.diagnostics.filter((x) => x.code === 'SITE_SERVER_CONFLICT');
  assert.is(d.length, 1, JSON.stringify(r.diagnostics));
  assert.ok(d[0]!.file!.endsWith('site_b/site.yaml') && d[0]!.line !== undefined, JSON.stringify(d[0]));
  assert.is(d[0]!.path, 'boot.server');
  assert.match(d[0]!.hint!, /path prefix/);
  // Each alone is fine.
  assert.ok((await check({ sites: [a] })).ok);
});

test('check: the site a check between sites refuses is not reported ok, in text or JSON (the other one is)', () => {
  const root = tempDir('shared');
  site(root, 'site_a', 'http://192.168.122.1', 'http://192.168.122.1/artifacts/v1.4.1');
  site(root, 'site_b', 'http://192.168.122.1:80/', 'http://192.168.122.1/artifacts/v1.4.1');
  const r = runCli(['check', 'site_a', 'site_b'], root);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /site_b\/site\.yaml:\d+:\d+ +error +SITE_SERVER_CONFLICT/);
  assert.match(r.stderr, /docs\/deploy\.md, "Several sites on one boot server"/);
  assert.match(r.stdout, /^ok  site_a: /m);
  assert.not.match(r.stdout, /site_b/);
  const j = JSON.parse(runCli(['check', 'site_a', 'site_b', '--json'], root).stdout) as {
    ok: boolean;
    sites: { dir: string; ok: boolean; errors: number }[];
  };
  assert.is(j.ok, false);
  assert.equal(
    j.sites.map((s) => [s.dir, s.ok, s.errors]),
    [
      ['site_a', true, 0],
      ['site_b', false, 1],
    ],
  );
  const b = JSON.parse(runCli(['build', 'site_a', 'site_b', '--out', 'out', '--json'], root).stdout) as typeof j;
  assert.equal(
    b.sites.map((s) => [s.dir, s.ok]),
    [
      ['site_a', true],
      ['site_b', false],
    ],
  );
});

test('check: a second directory declaring the same site is not reported ok either (EMIT_DUPLICATE_SITE, in its site.yaml)', () => {
  const root = tempDir('shared');
  site(root, 'one', 'http://192.168.122.1/one', 'http://192.168.122.1/one/artifacts/v1.4.1');
  site(root, 'two', 'http://192.168.122.1/two', 'http://192.168.122.1/two/artifacts/v1.4.1');
  // Both say `site: same`.
  for (const d of ['one', 'two']) {
    const f = join(root, d, 'site.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace(/^site: .*$/m, 'site: same'));
  }
  const r = runCli(['check', 'one', 'two'], root);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /two\/site\.yaml:1:7 +error +EMIT_DUPLICATE_SITE/); // at `site:`, light or not
  assert.match(r.stdout, /^ok  one: /m);
  assert.not.match(r.stdout, /two/);
  const j = JSON.parse(runCli(['check', 'one', 'two', '--json'], root).stdout) as { sites: { dir: string; ok: boolean }[] };
  assert.equal(
    j.sites.map((s) => [s.dir, s.ok]),
    [
      ['one', true],
      ['two', false],
    ],
  );
});

test('check: a refusal between sites counts against the innermost site holding its file, not one whose directory holds that site too', () => {
  const root = tempDir('shared');
  site(root, 'outer', 'http://192.168.122.1', 'http://192.168.122.1/artifacts/v1.4.1');
  site(join(root, 'outer'), 'lab', 'http://192.168.122.1', 'http://192.168.122.1/artifacts/v1.4.1');
  const j = JSON.parse(runCli(['check', 'outer', 'outer/lab', '--json'], root).stdout) as {
    sites: { dir: string; ok: boolean; errors: number }[];
    errors: number;
  };
  assert.equal(
    j.sites.map((s) => [s.dir, s.ok, s.errors]),
    [
      ['outer', true, 0],
      ['outer/lab', false, 1],
    ],
  );
});

test('sites under distinct prefixes of one server pass, and serve their release files under their prefix', async () => {
  const root = tempDir('shared');
  const a = site(root, 'site_a', 'http://192.168.122.1/a', 'http://192.168.122.1/a/artifacts/v1.4.1');
  const b = site(root, 'site_b', 'http://192.168.122.1/b/', 'http://192.168.122.1/b/artifacts/v1.4.1');
  const r = await check({ sites: [a, b] });
  assert.equal(r.diagnostics, []);
  const sa = await compileSite(a);
  const loc = sa.artifacts!.find((x) => x.path === 'nginx/locations.conf')!.contents as string;
  assert.match(loc, /location = \/a\/boot\.ipxe \{/);
  assert.match(loc, /location ~ "\^\/a\/ipxe\/\(/);
  assert.match(loc, /location = \/a\/artifacts\/v1\.4\.1\/harvester-v1\.4\.1-vmlinuz-amd64 \{/);
  assert.not.match(loc, /server \{|location \/ \{/, 'a locations file has no server block and no catch-all');
  const script = sa.artifacts!.find((x) => x.path === 'boot.ipxe')!.contents as string;
  assert.match(script, /imgfetch --name node http:\/\/192\.168\.122\.1\/a\/ipxe\/\$\{mac:hexhyp\}\.ipxe/);
  const dns = sa.artifacts!.find((x) => x.path === 'dnsmasq/harvgen.conf')!.contents as string;
  assert.match(dns, /dhcp-boot=tag:harvgen-site_a,tag:ipxe,http:\/\/192\.168\.122\.1\/a\/boot\.ipxe/);
});

test('a site on a shared server with its release files outside its prefix is SITE_SHARED_ARTIFACTS', async () => {
  const root = tempDir('shared');
  const a = site(root, 'site_a', 'http://192.168.122.1/a', 'http://192.168.122.1/artifacts/v1.4.1');
  const b = site(root, 'site_b', 'http://192.168.122.1/b', 'http://10.9.9.9/artifacts/v1.4.1');
  const r = await check({ sites: [a, b] });
  assert.equal(
    r.diagnostics.map((d) => `${d.code} ${d.path}`),
    ['SITE_SHARED_ARTIFACTS harvester.artifacts'],
  );
  assert.ok(r.diagnostics[0]!.file!.endsWith('site_a/site.yaml'));
});

test('the same boot MAC in two sites is SITE_MAC_DUPLICATE: an error on one boot server, a warning on two; never within one site (its own rule)', async () => {
  const root = tempDir('shared-mac');
  const a = site(root, 'site_a', 'http://192.168.122.1/a', 'http://192.168.122.1/a/artifacts/v1.4.1');
  const b = site(root, 'site_b', 'http://192.168.122.1/b', 'http://192.168.122.1/b/artifacts/v1.4.1');
  const c = site(root, 'site_c', 'http://192.168.123.1', 'http://192.168.123.1/artifacts/v1.4.1');
  // site_b and site_c take site_a's second machine.
  const copy = (dir: string, node: number) => {
    const text = readFileSync(join(dir, 'site.yaml'), 'utf8');
    const mac = /mac: (\S+)/g;
    const theirs = [...readFileSync(join(a, 'site.yaml'), 'utf8').matchAll(mac)].map((m) => m[1]!);
    let k = 0;
    writeFileSync(
      join(dir, 'site.yaml'),
      text.replace(mac, (whole: string) => (k++ === node ? `mac: ${theirs[1]!.toUpperCase()}` : whole)),
    );
  };
  copy(b, 0);
  copy(c, 2);
  const shared = await check({ sites: [a, b] });
  const d = shared.diagnostics.filter((x) => x.code === 'SITE_MAC_DUPLICATE');
  assert.is(d.length, 1, JSON.stringify(shared.diagnostics));
  assert.is(d[0]!.severity, 'error');
  assert.not.ok(shared.ok);
  assert.ok(d[0]!.file!.endsWith('site_b/site.yaml') && d[0]!.line !== undefined, JSON.stringify(d[0]));
  assert.match(
    d[0]!.message,
    /sites site_a and site_b both have a node with the boot MAC 52:54:[0-9a-f:]+ \(hv-2 of site_a, hv-1 of site_b\): their shared boot server would serve the machine two scripts/,
  );
  const apart = await check({ sites: [a, c] });
  const w = apart.diagnostics.filter((x) => x.code === 'SITE_MAC_DUPLICATE');
  assert.equal(
    w.map((x) => x.severity),
    ['warning'],
    JSON.stringify(apart.diagnostics),
  );
  assert.match(w[0]!.message, /\(hv-2 of site_a, hv-3 of site_c\)$/);
  // Each alone: no word.
  for (const s of [a, b, c])
    assert.equal(
      (await check({ sites: [s] })).diagnostics.filter((x) => x.code === 'SITE_MAC_DUPLICATE'),
      [],
    );
});

test.run();
