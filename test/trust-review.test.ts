// Findings of the hostile review repeated on issue 20's result: a link inside the repository to a
// git-ignored secret file is not read as an inventory file (its text would reach a code frame
// before any secret is known), and a directory of the output swapped for an edited copy (whose
// files keep their ctimes) is neither trusted by the up-to-date check nor by emit's shortcut.
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { build, check } from '../src/index.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

const settle = () => new Promise((r) => setTimeout(r, 150));

test('a node file that links to a secret file inside the repository is refused, and no line of it is printed', async () => {
  const root = tempDir('link-secret');
  mkdirSync(join(root, '.git'));
  const dir = join(root, 'sites/s');
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'site.yaml'), stringify(exampleSite()));
  writeFileSync(join(dir, 'secrets/token'), 'tokentokentoken-secret\n');
  symlinkSync('../secrets/token', join(dir, 'nodes/leak.yaml'));
  for (const secrets of ['markers', 'filled'] as const) {
    const r = await check({ sites: [dir], secrets });
    const d = r.diagnostics.find((x) => x.code === 'LOAD_OUTSIDE_REPOSITORY');
    assert.ok(d && /not a \.yaml or \.yml file/.test(d.message), JSON.stringify(r.diagnostics));
    const printed = JSON.stringify(r.diagnostics) + JSON.stringify(r.sites.map((s) => s.sources));
    assert.not.ok(printed.includes('tokentokentoken'), printed);
  }
  // A link to a YAML file that stays inside the repository is still followed.
  rmSync(join(dir, 'nodes/leak.yaml'));
  writeFileSync(join(root, 'shared-node.yaml'), 'mac: 52:54:00:aa:bb:09\nip: 192.168.122.19\n');
  symlinkSync('../../../shared-node.yaml', join(dir, 'nodes/hv-9.yaml'));
  const ok = await check({ sites: [dir] });
  assert.ok(ok.ok, JSON.stringify(ok.diagnostics));
  assert.ok(ok.sites[0]!.model!.nodes.some((n) => n.hostname === 'hv-9'));
});

test('an output directory swapped for an edited copy (file ctimes kept) is repaired by the next build', async () => {
  const root = tempDir('swap');
  mkdirSync(join(root, '.git'));
  const dir = join(root, 'sites/s');
  mkdirSync(dir, { recursive: true });
  const doc = exampleSite();
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  const out = join(root, 'out');
  await settle();
  assert.ok((await build({ sites: [dir], outDir: out })).ok);
  const site = join(out, 'location_x');
  const config = join(site, 'harvester/hv-1.yaml');
  assert.match(readFileSync(config, 'utf8'), /device: \/dev\/vda/);
  // An edited copy of harvester/, same sizes.
  const copy = join(root, 'copy');
  cpSync(join(site, 'harvester'), copy, { recursive: true });
  writeFileSync(join(copy, 'hv-1.yaml'), readFileSync(join(copy, 'hv-1.yaml'), 'utf8').replace('/dev/vda', '/dev/sdz'));
  await settle();
  // A real input change rewrites manifest.json (after the copy was made)...
  writeFileSync(join(dir, 'site.yaml'), stringify({ ...doc, boot: { ...(doc.boot as object), retries: 7 } }));
  await settle();
  assert.ok((await build({ sites: [dir], outDir: out })).ok);
  await settle();
  // ...then the edited directory is swapped in: its files keep their older ctimes.
  rmSync(join(site, 'harvester'), { recursive: true });
  renameSync(copy, join(site, 'harvester'));
  assert.match(readFileSync(config, 'utf8'), /\/dev\/sdz/);
  await settle();
  const r = await build({ sites: [dir], outDir: out });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.not.ok(r.sites[0]!.upToDate, 'the up-to-date check trusted the swapped directory');
  assert.match(readFileSync(config, 'utf8'), /device: \/dev\/vda/, 'the swapped-in file was kept');
  // The same through emit's shortcut: an input change and a swap before the next build.
  cpSync(join(site, 'harvester'), copy, { recursive: true });
  writeFileSync(join(copy, 'hv-1.yaml'), readFileSync(join(copy, 'hv-1.yaml'), 'utf8').replace('/dev/vda', '/dev/sdz'));
  await settle();
  rmSync(join(site, 'harvester'), { recursive: true });
  renameSync(copy, join(site, 'harvester'));
  writeFileSync(join(dir, 'site.yaml'), stringify({ ...doc, boot: { ...(doc.boot as object), retries: 8 } }));
  await settle();
  assert.ok((await build({ sites: [dir], outDir: out })).ok);
  assert.match(readFileSync(config, 'utf8'), /device: \/dev\/vda/, 'emit trusted the swapped-in file by the manifest');
});

test.run();
