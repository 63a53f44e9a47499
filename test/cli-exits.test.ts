// Exit codes that tell the truth (issue 19, third finding): `watch` of a missing directory is a
// usage error (2) naming it, and `check --strict` does not print `ok` for a site whose warnings
// fail the run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { runCli } from './helpers/cli.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

test('watch of a directory that does not exist exits 2 and names it', () => {
  const missing = join(tempDir('exits'), 'no-such-site');
  const r = runCli(['watch', missing]);
  assert.is(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /CLI_USAGE: no such site directory: .*no-such-site/);
});

test('check --strict: a site with a warning is not "ok", and the run fails', () => {
  const doc = exampleSite();
  (doc.boot as Record<string, unknown>).uefi_loader = 'ipxe.efi'; // BOOT_EXIT_MAY_HANG (a warning)
  const dir = join(tempDir('exits-strict'), 'site');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  const lax = runCli(['check', dir]);
  assert.is(lax.code, 0, lax.stderr);
  assert.match(lax.stdout, /^ok {2}.*site location_x, 3 nodes$/m);
  const strict = runCli(['check', '--strict', dir]);
  assert.is(strict.code, 1, strict.stderr);
  assert.not.match(strict.stdout, /^ok /m);
  assert.match(strict.stderr, /BOOT_EXIT_MAY_HANG/);
});

test('one node is "1 node"', () => {
  const doc = exampleSite();
  doc.nodes = (doc.nodes as unknown as unknown[]).slice(0, 1) as unknown as Record<string, unknown>;
  const dir = join(tempDir('exits-one'), 'site');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  const r = runCli(['check', dir]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /site location_x, 1 node$/m);
});

test.run();
