// `harvgen init`: a commented site that passes check as written, with working editor modelines
// and its secrets in a git-ignored secrets/; it never overwrites.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { build, check } from '../src/index.ts';
import { newestRelease } from '../src/harvester/releases.ts';
import { compileModel } from '../src/pipeline.ts';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';

/** The placeholders init writes for bare metal, each a NODE_PLACEHOLDER warning: every node's MAC, and the disk once (in defaults). */
function placeholders(diagnostics: readonly { code: string; severity: string; file?: string }[], nodes = 3): void {
  assert.equal(
    diagnostics.map((d) => [d.code, d.severity, d.file && (d.file.includes('/nodes/') ? 'nodes/' : '') + basename(d.file)]),
    [
      ...Array.from({ length: nodes }, (_, i) => ['NODE_PLACEHOLDER', 'warning', `nodes/node-${i + 1}.yaml`]),
      ['NODE_PLACEHOLDER', 'warning', 'site.yaml'],
    ],
  );
}

/** The placeholders of a bare-metal site replaced, as its owner would. */
function replacePlaceholders(dir: string, nodes = 3): void {
  const site = join(dir, 'site.yaml');
  writeFileSync(site, readFileSync(site, 'utf8').replace('REPLACE-with-the-install-disk', 'nvme-SAMSUNG_MZ1L2960_S665NE0R100001'));
  for (let i = 1; i <= nodes; i++) {
    const f = join(dir, `nodes/node-${i}.yaml`);
    writeFileSync(f, readFileSync(f, 'utf8').replace(/02:00:00:00:00:(..)/, '3c:ec:ef:20:0a:$1'));
  }
}

test('init scaffolds a site that passes check; its only diagnostics are the placeholders to replace, then none', async () => {
  const dir = join(tempDir('init'), 'sites', 'Lab-Site 2');
  const r = runCli(['init', dir]);
  assert.is(r.code, 0, r.stderr);
  for (const f of ['site.yaml', 'nodes/node-1.yaml', 'secrets/token', 'secrets/password', 'secrets/.gitignore'])
    assert.ok(existsSync(join(dir, f)), f);
  const before = await check({ sites: [dir] });
  assert.ok(before.ok);
  placeholders(before.diagnostics);
  // --strict: the placeholders fail it.
  assert.not.ok((await check({ sites: [dir], strict: true })).ok);
  replacePlaceholders(dir);
  const result = await check({ sites: [dir] });
  assert.equal(result.diagnostics, []);
  assert.is(result.sites[0]!.site, 'lab-site-2', 'the site name is derived from the directory name');
  assert.match(readFileSync(join(dir, 'secrets/.gitignore'), 'utf8'), /^\*$/m);
});

/**
 * init with `flags`, then check and build the site: both pass with no diagnostic (a bare-metal
 * site once its placeholders are replaced); the site's model.
 */
async function initCheckBuild(flags: string[]) {
  const root = tempDir('init');
  const dir = join(root, 'site');
  const r = runCli(['init', dir, ...flags]);
  assert.is(r.code, 0, r.stderr);
  if (!flags.includes('--lab')) {
    placeholders((await check({ sites: [dir] })).diagnostics);
    replacePlaceholders(dir);
  }
  const checked = await check({ sites: [dir] });
  assert.equal(checked.diagnostics, []);
  const built = await build({ sites: [dir], outDir: join(root, 'out') });
  assert.ok(built.ok, JSON.stringify(built.diagnostics));
  assert.equal(built.diagnostics, []);
  const m = (await compileModel(dir)).renderable!.model;
  return { dir, model: m, site: parse(readFileSync(join(dir, 'site.yaml'), 'utf8')) as Record<string, unknown> };
}

test('bare metal (the default): init, check and build pass; three nodes that install once, no lab section', async () => {
  const { dir, model, site } = await initCheckBuild([]);
  assert.not.ok('lab' in site, 'a bare-metal site has no lab: section');
  assert.is(model.nodes.length, 3);
  assert.equal(
    model.nodes.map((n) => n.state),
    ['install-once', 'install-once', 'install-once'],
  );
  assert.is(model.release?.version.raw, newestRelease());
  assert.match(readFileSync(join(dir, 'site.yaml'), 'utf8'), /# install-once: .*boots it; only a blank disk\n/);
});

test('--lab --nodes 2 --release: init, check and build pass; a lab section, two nodes that install once, that release', async () => {
  const { model, site } = await initCheckBuild(['--lab', '--nodes', '2', '--release', 'v1.6.0']);
  assert.ok('lab' in site, 'a lab site has a lab: section');
  assert.equal(
    model.nodes.map((n) => [n.hostname, n.state]),
    [
      ['node-1', 'install-once'],
      ['node-2', 'install-once'],
    ],
  );
  assert.is(model.release?.version.raw, 'v1.6.0');
});

test('init beside a site served at the same address serves the new one under its own path, so that all of them check together (no SITE_SERVER_CONFLICT)', async () => {
  const root = tempDir('init');
  const sites = ['rack-1', 'rack-2', 'lab'].map((s) => join(root, 'sites', s));
  for (const [i, dir] of sites.entries()) assert.is(runCli(['init', dir, ...(i === 2 ? ['--lab', '--nodes', '1'] : [])]).code, 0);
  const server = (dir: string) => (parse(readFileSync(join(dir, 'site.yaml'), 'utf8')) as { boot: { server: string } }).boot.server;
  const artifacts = (dir: string) =>
    (parse(readFileSync(join(dir, 'site.yaml'), 'utf8')) as { harvester: { artifacts: string } }).harvester.artifacts;
  // The lab is on another address (the libvirt network's): nothing to share, no prefix.
  assert.equal(sites.map(server), ['http://192.168.10.1', 'http://192.168.10.1/rack-2', 'http://192.168.122.1']);
  assert.match(artifacts(sites[1]!), /^http:\/\/192\.168\.10\.1\/rack-2\/artifacts\/v/);
  const all = await check({ sites });
  assert.ok(all.ok, JSON.stringify(all.diagnostics.filter((d) => d.severity === 'error')));
  assert.equal([...new Set(all.diagnostics.map((d) => d.code))], ['NODE_PLACEHOLDER']);
});

test('init reads the sites beside it without printing their YAML warnings (a tag it cannot resolve, with escapes after it)', () => {
  const root = tempDir('init');
  mkdirSync(join(root, 'sites', 'w'), { recursive: true });
  writeFileSync(join(root, 'sites', 'w', 'site.yaml'), 'site: w\nboot:\n  server: !x http://192.168.10.1   # \u001b[2J\n');
  const r = runCli(['init', join(root, 'sites', 'n'), '--nodes', '1']);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /YAMLWarning|TAG_RESOLVE|Unresolved tag|\u001b/, 'nothing of the neighbour on stderr');
  assert.match(r.stderr, /^site n: edit /, "init's own next steps, and only them");
  // A neighbour that does not parse (a key twice) is no site: the new lab is served at the root.
  mkdirSync(join(root, 'sites', 'a'));
  writeFileSync(join(root, 'sites', 'a', 'site.yaml'), 'site: a\nsite: a\nboot:\n  server: http://192.168.122.1\n');
  assert.is(runCli(['init', join(root, 'sites', 'lab'), '--lab', '--nodes', '1']).code, 0);
  assert.match(readFileSync(join(root, 'sites', 'lab', 'site.yaml'), 'utf8'), /^ {2}server: http:\/\/192\.168\.122\.1\s/m);
});

test('an unknown --release or a bad --nodes is a usage error (exit 2) that writes nothing; the release error names the newest', () => {
  const dir = join(tempDir('init'), 'site');
  const r = runCli(['init', dir, '--release', 'v0.0.1']);
  assert.is(r.code, 2);
  assert.ok(r.stderr.includes(`the newest it knows is ${newestRelease()}`), r.stderr);
  for (const n of ['0', 'three', '100']) {
    const bad = runCli(['init', dir, '--nodes', n]);
    assert.is(bad.code, 2, n);
    assert.match(bad.stderr, /--nodes .*: a whole number of Harvester nodes from 1 to 99/);
  }
  assert.not.ok(existsSync(dir));
});

test('the modelines of the scaffolded files point at the schemas harvgen ships', () => {
  const dir = join(tempDir('init'), 'site');
  assert.is(runCli(['init', dir]).code, 0);
  for (const [file, schema] of [
    ['site.yaml', 'site.schema.json'],
    ['nodes/node-1.yaml', 'node.schema.json'],
    ['nodes/node-3.yaml', 'node.schema.json'],
  ]) {
    const first = readFileSync(join(dir, file!), 'utf8').split('\n')[0]!;
    const m = /^# yaml-language-server: \$schema=(.+)$/.exec(first);
    assert.ok(m, first);
    const target = resolve(dirname(join(dir, file!)), m[1]!);
    assert.ok(existsSync(target) && target.endsWith(`schema/${schema}`), target);
  }
});

test('init never overwrites: an existing site.yaml stops it (exit 2) and nothing changes', () => {
  const dir = tempDir('init');
  writeFileSync(join(dir, 'site.yaml'), 'mine\n');
  const r = runCli(['init', dir]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /site\.yaml exists; harvgen init never overwrites/);
  assert.is(readFileSync(join(dir, 'site.yaml'), 'utf8'), 'mine\n');
  assert.not.ok(existsSync(join(dir, 'nodes')) || existsSync(join(dir, 'secrets')));
});

test.run();
