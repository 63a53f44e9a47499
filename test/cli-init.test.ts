// `harvgen init`: a commented site that passes check as written, with working editor modelines
// and its secrets in a git-ignored secrets/; it never overwrites.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../src/index.ts';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';

test('init scaffolds a site that passes check with no diagnostic at all', async () => {
  const dir = join(tempDir('init'), 'sites', 'Lab-Site 2');
  const r = runCli(['init', dir]);
  assert.is(r.code, 0, r.stderr);
  for (const f of ['site.yaml', 'nodes/node-1.yaml', 'secrets/token', 'secrets/password', 'secrets/.gitignore'])
    assert.ok(existsSync(join(dir, f)), f);
  const result = await check({ sites: [dir] });
  assert.equal(result.diagnostics, []);
  assert.is(result.sites[0]!.site, 'lab-site-2', 'the site name is derived from the directory name');
  assert.match(readFileSync(join(dir, 'secrets/.gitignore'), 'utf8'), /^\*$/m);
});

test('the modelines of the scaffolded files point at the schemas harvgen ships', () => {
  const dir = join(tempDir('init'), 'site');
  assert.is(runCli(['init', dir]).code, 0);
  for (const [file, schema] of [
    ['site.yaml', 'site.schema.json'],
    ['nodes/node-1.yaml', 'node.schema.json'],
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
