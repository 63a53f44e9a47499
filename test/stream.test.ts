// build() compiles every site's model first, then renders, writes and lets go of one site at a
// time: a render problem in one site keeps that site from being written but not the others, a
// failed build still reports every site's problems, and the files of a written site are not
// kept in the result (unless keepArtifacts), so memory does not grow with the number of sites.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateRepo, nodeFile, nodeText } from '../bench/gen.ts';
import { build } from '../src/index.ts';
import { tempDir } from './helpers/tmp.ts';

test('a render problem in one site: the others are written, every problem is reported, files are let go', async () => {
  const root = tempDir('stream');
  const sites = generateRepo(root, 3, 4);
  // A `config:` key the installer's schema refuses: found only when the node's config is rendered.
  writeFileSync(nodeFile(root, 1, 2), `${nodeText(1, 2)}config:\n  install:\n    skip_checks: true\n`);
  const out = join(root, 'out');
  const r = await build({ sites, outDir: out, cwd: root });
  assert.not.ok(r.ok);
  const bad = r.diagnostics.filter((d) => d.code === 'HARVESTER_CONFIG_INVALID');
  assert.is(bad.length, 1, JSON.stringify(r.diagnostics));
  assert.ok(bad[0]!.file!.endsWith('n00002.yaml') && bad[0]!.line !== undefined);
  assert.equal(
    r.sites.map((s) => s.site),
    ['s000', 's002'],
  );
  assert.not.ok(existsSync(join(out, 's001')));
  assert.equal(
    r.compiled.map((c) => [c.site, c.model?.nodes.length, c.artifacts]),
    [
      ['s000', 4, undefined],
      ['s001', 4, undefined],
      ['s002', 4, undefined],
    ],
  );
  assert.ok(r.sites.every((s) => s.files.includes('manifest.json')));
  // keepArtifacts keeps them.
  const kept = await build({ sites, outDir: join(root, 'kept'), cwd: root, keepArtifacts: true });
  assert.equal(
    kept.compiled[0]!.artifacts!.map((a) => a.path),
    kept.sites[0]!.files,
  );
  // --all-or-nothing renders every site first: nothing is written, the same problem is reported.
  const none = await build({ sites, outDir: join(root, 'none'), cwd: root, allOrNothing: true });
  assert.equal(none.sites, []);
  assert.not.ok(existsSync(join(root, 'none')));
  assert.equal(
    none.diagnostics.map((d) => d.code),
    r.diagnostics.map((d) => d.code),
  );
  // A clash between sites writes nothing, and still reports the render problem of another site.
  const yaml = join(root, 'sites/s002/site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('site: s002', 'site: s000'));
  const clash = await build({ sites, outDir: join(root, 'clash'), cwd: root });
  assert.equal(clash.sites, []);
  assert.ok(clash.diagnostics.some((d) => d.code === 'EMIT_DUPLICATE_SITE'));
  assert.ok(clash.diagnostics.some((d) => d.code === 'HARVESTER_CONFIG_INVALID'));
});

test.run();
