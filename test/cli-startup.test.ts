// What a run loads, through the binary: a build whose sites are all up to date compiles nothing,
// so it never loads the compiler (the pipeline, the rules, the renderers, yaml, ajv, eta), and
// `--version` loads nothing but the CLI. A module-resolution hook records every module of the
// repository and of node_modules that the process imports.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from './helpers/tmp.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin/harvgen.js');

/** The modules a run of `harvgen <args>` imports (paths relative to the repository), and its exit code. */
function loaded(args: readonly string[]): { code: number; modules: string[] } {
  const dir = tempDir('startup');
  const log = join(dir, 'loaded.txt');
  const hook = join(dir, 'hook.mjs');
  const inner = `import { appendFileSync } from 'node:fs';
export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }`;
  writeFileSync(
    hook,
    `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(inner)}));\n`,
  );
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', hook, bin, ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const prefix = `file://${repo}`;
  const modules = [
    ...new Set(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((u) => u.startsWith(prefix))
        .map((u) => u.slice(prefix.length)),
    ),
  ];
  return { code: r.status ?? -1, modules };
}

/** The modules of the compiler: none may load when nothing is compiled. */
const COMPILER = [
  /^dist\/pipeline\.js$/,
  /^dist\/validate\/index\.js$/,
  /^dist\/render\/index\.js$/,
  /^dist\/model\/index\.js$/,
  /^node_modules\/(ajv|yaml|eta)\//,
];

test('an up-to-date build loads no part of the compiler', () => {
  const out = join(tempDir('startup-out'), 'out');
  const first = loaded(['build', 'sites/location_x', '--out', out, '-q']);
  assert.is(first.code, 0);
  assert.ok(
    first.modules.some((m) => COMPILER[0]!.test(m)),
    'a cold build loads the compiler (the hook sees it)',
  );
  const again = loaded(['build', 'sites/location_x', '--out', out, '-q']);
  assert.is(again.code, 0);
  const compiler = again.modules.filter((m) => COMPILER.some((re) => re.test(m)));
  assert.equal(compiler, [], 'no compiler module in an up-to-date build');
});

test('--version loads the CLI only', () => {
  const r = loaded(['--version']);
  assert.is(r.code, 0);
  assert.equal(
    r.modules.filter((m) => COMPILER.some((re) => re.test(m)) || /^dist\/(orchestrate|emit|cache)\//.test(m)),
    [],
  );
});

test.run();
