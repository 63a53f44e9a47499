// build's up-to-date check through the binary (test/cache.test.ts has the rest): another harvgen
// (its code changed) compiles everything again. The binary runs from a copy of the command's files
// (test/helpers/package.ts), whose dist/ this test may touch while other files run dist/.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateRepo } from '../bench/gen.ts';
import { RACY_MS } from '../src/load/stamps.ts';
import { commandCopy } from './helpers/package.ts';
import { tempDir } from './helpers/tmp.ts';

/**
 * Files changed less than RACY_MS before a build are compiled again by the next one (their
 * stamps could miss an edit in the same clock tick): tests let an edit settle first.
 */
const settle = () => new Promise((r) => setTimeout(r, RACY_MS + 20));

test('another harvgen (its code changed) compiles everything again', async () => {
  const root = tempDir('cache-cli');
  const sites = generateRepo(root, 1, 2);
  const harvgen = commandCopy();
  await settle();
  const cli = () =>
    spawnSync(process.execPath, [harvgen, 'build', sites[0]!, '--out', join(root, 'out'), '--json'], {
      encoding: 'utf8',
      cwd: root,
    }).stdout;
  const site = () => (JSON.parse(cli()) as { sites: { up_to_date?: boolean }[] }).sites[0]!;
  assert.is(site().up_to_date, undefined);
  assert.is(site().up_to_date, true);
  // The CLI runs its bundle (dist/cli.js and dist/chunks/) and the compiled validators: a change of
  // any is another harvgen. tsc's modules of the library (dist/index.js...) are not what it runs.
  const dist = join(dirname(harvgen), '../dist');
  const chunk = readdirSync(join(dist, 'chunks')).sort()[0]!;
  for (const file of ['cli.js', `chunks/${chunk}`, 'validate/compiled/site.cjs', 'harvester/compiled/installer-1.4.cjs']) {
    const code = join(dist, file);
    const st = statSync(code);
    utimesSync(code, st.atime, new Date(st.mtimeMs + 1000));
    assert.is(site().up_to_date, undefined, `${file} changed: compiled again`);
    assert.is(site().up_to_date, true);
  }
  const library = join(dist, 'index.js');
  const st = statSync(library);
  utimesSync(library, st.atime, new Date(st.mtimeMs + 1000));
  assert.is(site().up_to_date, true, 'the library module is not what the CLI runs');
});

test.run();
