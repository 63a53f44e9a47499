// ARCHITECTURE.md's recipes followed in a copy of the sources (test/cli-recipe*.test.ts): the copy
// with the recipe's edits, its schema regenerated and type-checked, and its CLI run from source.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { tempDir } from './tmp.ts';

const repo = join(import.meta.dirname, '../..');

/** `node --import tsx ARGS` in the copy, with `env` over this process's. */
export function run(cwd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 180_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The copy's CLI from its sources (its bin/ runs dist/, which the copy has not built). */
export function cli(cwd: string, args: string[]) {
  return run(cwd, [
    '--input-type=module',
    '-e',
    `import { main } from './src/cli.ts'; process.exitCode = await main(${JSON.stringify(args)});`,
  ]);
}

/** A copy of the sources with `edits` (path -> new text, or a replacement to make in it) applied, the schema regenerated and type-checked. */
export function copyWith(label: string, edits: Record<string, string | [string, string][]>): string {
  const copy = join(tempDir(label), 'harvgen');
  mkdirSync(copy);
  for (const d of ['src', 'scripts', 'schema', 'templates', 'bin', 'docs']) cpSync(join(repo, d), join(copy, d), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json', 'README.md']) cpSync(join(repo, f), join(copy, f));
  symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'));
  mkdirSync(join(copy, '.git'));
  for (const [path, edit] of Object.entries(edits)) {
    const file = join(copy, path);
    if (typeof edit === 'string') {
      writeFileSync(file, edit);
      continue;
    }
    let text = readFileSync(file, 'utf8');
    for (const [from, to] of edit) {
      assert.ok(text.includes(from), `${path} has ${from}`);
      text = text.replace(from, to);
    }
    writeFileSync(file, text);
  }
  const gen = run(copy, ['scripts/gen-schema.ts']);
  assert.is(gen.code, 0, gen.err);
  const tsc = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'], {
    cwd: copy,
    encoding: 'utf8',
  });
  // tsconfig includes test/ and bench/, which the copy has not: only src/ and scripts/ are compiled.
  assert.equal(
    (tsc.stdout + tsc.stderr).split('\n').filter((l) => /^(src|scripts)\//.test(l)),
    [],
    'the copy type-checks',
  );
  return copy;
}
