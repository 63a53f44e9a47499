// man/harvgen.1 is generated from the command definitions and docs/ (`npm run gen:man`); the
// committed page must be exactly what the generator writes today, and ship with the package.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definedCli, optionNames } from '../scripts/cli-definitions.ts';
import { renderManPage } from '../scripts/man-page.ts';
import { TOPICS } from '../src/cli/help/topics.ts';
import { requireProgram } from './real/helpers/programs.ts';

const repo = resolve(import.meta.dirname, '..');
const page = readFileSync(resolve(repo, 'man/harvgen.1'), 'utf8');

test('man/harvgen.1 matches its sources (run `npm run gen:man`)', () => {
  assert.fixture(page, renderManPage());
});

test('the man page names every command, every flag and every help topic', () => {
  const cli = definedCli();
  const text = page.replace(/\\-/g, '-').replace(/\\e/g, '\\');
  for (const c of cli.commands) assert.ok(text.includes(`.B harvgen ${c.rawName}`), c.name);
  for (const o of [cli.globalCommand, ...cli.commands].flatMap((c) => c.options))
    for (const n of optionNames(o.rawName)) assert.ok(text.includes(n), n);
  for (const t of TOPICS) assert.ok(text.includes(`.B ${t.name}\n`), t.name);
});

test('package.json ships the man page and the docs the help topics print', () => {
  const pkg = JSON.parse(readFileSync(resolve(repo, 'package.json'), 'utf8')) as { files: string[]; man: string[] };
  assert.ok(pkg.files.includes('man'));
  assert.ok(pkg.files.includes('docs'));
  assert.equal(pkg.man, ['./man/harvgen.1']);
});

test('man renders the page without warnings (where man is installed)', () => {
  // A missing man skips loudly on a laptop and fails in CI (HARVGEN_REQUIRE_REAL=1).
  if (!requireProgram('man')) return;
  const r = spawnSync('man', ['--warnings', '-l', resolve(repo, 'man/harvgen.1')], {
    encoding: 'utf8',
    env: { ...process.env, MANWIDTH: '100', MANPAGER: 'cat', PAGER: 'cat' },
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.match(r.stdout, /EXIT STATUS/);
});

test.run();
