// A Harvester release per node: a node (or a layer) sets harvester_version to roll forward.
// Its kernel, initrd, rootfs, ISO, config keys and installer schema follow that release; nginx
// serves and fetch.sh downloads every release the site's nodes use.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { check, compileSite } from '../src/index.ts';
import { KNOWN_RELEASES } from '../src/harvester/releases.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

/** location_x with node hv-3 on `v` (and `edit` applied to the document). */
function site(v: string, edit: (doc: Record<string, Record<string, unknown>>) => void = () => undefined): string {
  const dir = tempDir('release');
  const doc = exampleSite();
  const nodes = doc.nodes as unknown as Record<string, unknown>[];
  nodes[2] = { ...nodes[2], harvester_version: v };
  edit(doc);
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

test("a node's own release drives its script, kernel line, config and the site's nginx and fetch.sh", async () => {
  const r = await compileSite(site('v1.5.0'));
  assert.equal(r.diagnostics, []);
  const file = (p: string) => r.artifacts!.find((a) => a.path === p)!.contents as string;
  const hv3 = file('ipxe/52-54-00-aa-bb-03.ipxe');
  assert.match(hv3, /kernel --name vmlinuz http:\/\/192\.168\.122\.1\/artifacts\/v1\.5\.0\/harvester-v1\.5\.0-vmlinuz-amd64 /);
  assert.match(hv3, /root=live:http:\/\/192\.168\.122\.1\/artifacts\/v1\.5\.0\/harvester-v1\.5\.0-rootfs-amd64\.squashfs/);
  assert.match(
    file('ipxe/52-54-00-aa-bb-01.ipxe'),
    /artifacts\/v1\.4\.1\/harvester-v1\.4\.1-vmlinuz-amd64/,
    'the other nodes keep the site release',
  );
  const config = parse(file('harvester/hv-3.yaml')) as { install: { iso_url: string } };
  assert.is(config.install.iso_url, 'http://192.168.122.1/artifacts/v1.5.0/harvester-v1.5.0-amd64.iso');
  assert.match(file('harvester/hv-3.yaml'), /^# Harvester v1\.5\.0 config for node hv-3/);
  const nginx = file('nginx/harvgen.conf');
  for (const v of ['v1.4.1', 'v1.5.0']) {
    assert.match(
      nginx,
      new RegExp(
        `location = /artifacts/${v}/harvester-${v}-vmlinuz-amd64 \\{\\n\\s+alias /srv/harvgen/artifacts/${v}/harvester-${v}-vmlinuz-amd64;`,
      ),
    );
  }
  const fetch = file('artifacts/fetch.sh');
  assert.match(fetch, /fetch v1\.4\.1 "\$target" harvester-v1\.4\.1-amd64\.sha512 /);
  assert.match(fetch, /fetch v1\.5\.0 "\$target" harvester-v1\.5\.0-amd64\.sha512 /);
  const manifest = JSON.parse(file('manifest.json')) as { nodes: { hostname: string; harvester_version: string }[] };
  assert.equal(
    manifest.nodes.map((n) => `${n.hostname}=${n.harvester_version}`),
    ['hv-1=v1.4.1', 'hv-2=v1.4.1', 'hv-3=v1.5.0'],
  );
});

test("rules follow each node's release: a key too new for the node, BIOS on v1.8, an unknown release", async () => {
  const tooNew = await check({
    sites: [site('v1.2.2', (d) => void ((d.nodes as unknown as Record<string, unknown>[])[2]!.harvester_role = 'worker'))],
  });
  assert.ok(
    tooNew.diagnostics.some(
      (d) => d.code === 'HARVESTER_KEY_TOO_NEW' && /node hv-3 installs v1\.2\.2/.test(d.message) && d.path === 'nodes[2].harvester_role',
    ),
    JSON.stringify(tooNew.diagnostics),
  );
  const bios = await check({ sites: [site('v1.8.0', (d) => void (d.boot = { ...d.boot, firmware: 'bios' }))] });
  assert.ok(
    bios.diagnostics.some((d) => d.code === 'HARVESTER_BIOS_UNSUPPORTED' && d.path === 'nodes[2].harvester_version'),
    JSON.stringify(bios.diagnostics),
  );
  const unknown = await check({ sites: [site('v9.9.9')] });
  assert.ok(
    unknown.diagnostics.some((d) => d.code === 'HARVESTER_VERSION_UNSUPPORTED' && d.path === 'nodes[2].harvester_version'),
    JSON.stringify(unknown.diagnostics),
  );
});

test("an unsupported release, the site's or a node's, names the newest release harvgen knows in its hint", async () => {
  const newest = KNOWN_RELEASES[KNOWN_RELEASES.length - 1]!.version;
  const cases: [string, string][] = [
    ['v1.1.0', 'nodes[2].harvester_version'],
    ['v9.9.9', 'nodes[2].harvester_version'],
  ];
  for (const [v, path] of cases) {
    const r = await check({ sites: [site(v)] });
    const d = r.diagnostics.find((x) => x.code === 'HARVESTER_VERSION_UNSUPPORTED' && x.path === path);
    assert.ok(d?.hint?.includes(newest), `${v}: ${JSON.stringify(r.diagnostics)}`);
  }
  for (const v of ['v1.0.3', 'v2.0.0']) {
    const r = await check({ sites: [site('v1.5.0', (doc) => void (doc.harvester = { ...doc.harvester, version: v }))] });
    const d = r.diagnostics.find((x) => x.code === 'HARVESTER_VERSION_UNSUPPORTED' && x.path === 'harvester.version');
    assert.ok(d?.hint?.includes(newest), `${v}: ${JSON.stringify(r.diagnostics)}`);
  }
});

test('a release written without its v says to add the v, at the version', async () => {
  const node = await check({ sites: [site('1.5.0')] });
  const d = node.diagnostics.find((x) => x.path === 'nodes[2].harvester_version');
  assert.is(d?.code, 'SCHEMA_PATTERN', JSON.stringify(node.diagnostics));
  assert.match(d!.message, /has no leading `v`/);
  assert.match(d!.hint!, /^Add the v: `harvester_version: v1\.5\.0`/);
  const siteLevel = await check({ sites: [site('v1.5.0', (doc) => void (doc.harvester = { ...doc.harvester, version: '1.4.1' }))] });
  const s = siteLevel.diagnostics.find((x) => x.path === 'harvester.version');
  assert.match(s?.hint ?? '', /^Add the v: `version: v1\.4\.1`/, JSON.stringify(siteLevel.diagnostics));
  assert.ok(s!.line !== undefined && s!.col !== undefined);
});

test('a node on another release needs an artifacts URL that names the site release (HARVESTER_ARTIFACTS_NO_VERSION)', async () => {
  const r = await check({
    sites: [site('v1.5.0', (d) => void (d.harvester = { ...d.harvester, artifacts: 'http://192.168.122.1/artifacts/current' }))],
  });
  assert.equal(
    r.diagnostics.map((d) => `${d.code} ${d.path}`),
    ['HARVESTER_ARTIFACTS_NO_VERSION harvester.artifacts'],
  );
  assert.ok(r.diagnostics[0]!.line !== undefined);
});

test.run();
