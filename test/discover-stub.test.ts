// A stub `discover` writes points its editor modeline at the node schema of the harvgen that
// wrote it, relative to the stub's own directory: it resolves wherever the site lives and wherever
// harvgen is installed (a checkout, or node_modules/harvgen of the user's repository).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { discover, schemaPathFrom } from '../src/status/discover.ts';
import { line, site } from './helpers/status.ts';

const repo = resolve(import.meta.dirname, '..');

test("a discovered stub's schema line resolves, from the stub's directory, to the node schema harvgen ships", async () => {
  // A site outside the repository, deeper than sites/<x>/: no fixed ../../../ can reach the schema.
  const dir = site();
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${line('10.0.0.160', 8, '/ipxe/52-54-00-ff-00-01.ipxe', 404)}\n`);
  const r = await discover({ sites: [dir], logs: [log], write: true, cwd: dir });
  assert.is(r.unknown.length, 1);
  const stub = join(dir, r.unknown[0]!.stub);
  assert.ok(r.unknown[0]!.written && existsSync(stub), stub);
  const m = /^# yaml-language-server: \$schema=(.+)$/m.exec(readFileSync(stub, 'utf8'));
  assert.ok(m, 'no modeline');
  assert.is(resolve(dirname(stub), m[1]!), join(repo, 'schema', 'node.schema.json'));
});

test('the schema path is relative and uses forward slashes from any directory', () => {
  for (const d of ['/srv/sites/x/discovered', join(repo, 'sites', 'x', 'discovered'), '/']) {
    const p = schemaPathFrom(d);
    assert.not.match(p, /\\/);
    assert.not.ok(p.startsWith('/'), p);
    assert.is(resolve(d, p), join(repo, 'schema', 'node.schema.json'));
  }
});

test.run();
