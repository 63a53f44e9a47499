// The state key through the binary (test/state-forgery.test.ts has the rest): a record made under
// another key is not trusted, and without a private key nothing is cached.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateRepo } from '../bench/gen.ts';
import { RACY_MS } from '../src/load/stamps.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

/** Files changed less than RACY_MS before a build are compiled again anyway: let an edit settle first. */
const settle = (ms = RACY_MS + 20) => new Promise((r) => setTimeout(r, ms));

test('the state key: a record made under another key is not trusted, and without a private key nothing is cached', async () => {
  const root = tempDir('forgery-key');
  mkdirSync(join(root, '.git'));
  const sites = generateRepo(root, 1, 2);
  await settle();
  const cli = (xdg: string) => {
    const r = spawnSync(process.execPath, [join(repo, 'bin/harvgen.js'), 'build', sites[0]!, '--out', join(root, 'out'), '--json'], {
      encoding: 'utf8',
      cwd: root,
      env: { ...process.env, XDG_CACHE_HOME: xdg },
    });
    const doc = JSON.parse(r.stdout) as { ok: boolean; sites: { up_to_date?: boolean }[] };
    assert.ok(doc.ok, r.stdout + r.stderr);
    return doc.sites[0]!.up_to_date === true;
  };
  const a = join(root, 'cache-a');
  const b = join(root, 'cache-b');
  assert.is(cli(a), false);
  assert.is(cli(a), true, 'the same key trusts its own record');
  assert.ok(statSync(join(a, 'harvgen/state-key')).mode % 0o1000 === 0o600);
  assert.is(cli(b), false, 'a record made under another key (another user or machine) is not trusted');
  assert.is(cli(b), true);
  // A key directory others can write: no key, so no record is trusted or written.
  const shared = join(root, 'cache-shared');
  mkdirSync(join(shared, 'harvgen'), { recursive: true });
  chmodSync(join(shared, 'harvgen'), 0o777);
  assert.is(cli(shared), false);
  assert.is(cli(shared), false);
  // A key others can read is replaced (the old records stop verifying).
  chmodSync(join(a, 'harvgen/state-key'), 0o644);
  const before = readFileSync(join(a, 'harvgen/state-key'));
  assert.is(cli(a), false);
  assert.not.equal(readFileSync(join(a, 'harvgen/state-key')), before);
  assert.is(cli(a), true);
});

test.run();
