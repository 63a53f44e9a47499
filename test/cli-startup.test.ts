// What a run loads, through the binary: a build whose sites are all up to date compiles nothing,
// so it never loads the compiler (the pipeline, the rules, the renderers, yaml, ajv, eta), and
// `--version` loads nothing but bin/harvgen.js; a check validates with the validators compiled ahead of
// time, so it never loads ajv's schema compiler. A module-resolution hook records every module of
// the repository and of node_modules that the process imports, and at exit every CommonJS module
// it required (the hook does not see require(): the compiled validators and ajv are CommonJS).
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
  const atExit = `process.on('exit', () => appendFileSync(${JSON.stringify(log)}, Object.keys(createRequire(import.meta.url).cache).map((f) => pathToFileURL(f).href + '\\n').join('')));`;
  writeFileSync(
    hook,
    [
      `import { appendFileSync } from 'node:fs';`,
      `import { createRequire, register } from 'node:module';`,
      `import { pathToFileURL } from 'node:url';`,
      `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(inner)}));`,
      atExit,
      '',
    ].join('\n'),
  );
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', hook, bin, ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const prefix = `file://${repo}`;
  // A package by its path from node_modules/ on: in a worktree whose node_modules is a symbolic
  // link, Node records the package at the link's target, outside the repository.
  const relative = (u: string): string | undefined => {
    const at = u.startsWith('file://') ? u.indexOf('/node_modules/') : -1;
    if (at >= 0) return u.slice(at + 1);
    return u.startsWith(prefix) ? u.slice(prefix.length) : undefined;
  };
  const modules = [
    ...new Set(
      readFileSync(log, 'utf8')
        .split('\n')
        .map(relative)
        .filter((m) => m !== undefined),
    ),
  ];
  return { code: r.status ?? -1, modules };
}

/**
 * The sources each output of the CLI's bundle holds (scripts/bundle.mjs writes esbuild's account
 * of them): a chunk is judged by what is in it, not by its name.
 */
const bundle = JSON.parse(readFileSync(join(repo, 'dist/bundle-meta.json'), 'utf8')) as Record<string, { inputs: Record<string, unknown> }>;

/** The sources a loaded module holds: a chunk's inputs, or the module itself. */
const sourcesOf = (m: string): string[] => (bundle[m] ? Object.keys(bundle[m].inputs) : [m]);

/** The modules of the compiler (as sources, or tsc's modules of the library): none may load when nothing is compiled. */
const COMPILER = [
  /^src\/pipeline\.ts$/,
  /^src\/(validate|render|model)\/index\.ts$/,
  /^src\/render\/kinds\//,
  /^src\/validate\/rules\//,
  /^dist\/(pipeline|validate\/index|render\/index|model\/index)\.js$/,
  /^node_modules\/(ajv|yaml|eta)\//,
];

test('an up-to-date build loads no part of the compiler', () => {
  const out = join(tempDir('startup-out'), 'out');
  const first = loaded(['build', 'sites/location_x', '--out', out, '-q']);
  assert.is(first.code, 0);
  const sources = (r: { modules: string[] }) => r.modules.flatMap(sourcesOf);
  assert.ok(first.modules.includes('dist/cli.js') && bundle['dist/cli.js'] !== undefined, 'the CLI runs its bundle');
  assert.ok(
    sources(first).some((m) => COMPILER[0]!.test(m)),
    'a cold build loads the compiler (the hook sees it)',
  );
  const again = loaded(['build', 'sites/location_x', '--out', out, '-q']);
  assert.is(again.code, 0);
  const compiler = sources(again).filter((m) => COMPILER.some((re) => re.test(m)));
  assert.equal(compiler, [], 'no compiler module in an up-to-date build');
  // No other command's implementation, and the CLI's modules in one chunk or few (scripts/bundle.mjs):
  // each module costs the loader about 0.3 ms; esbuild's own chunking loaded 21 of them.
  assert.equal(
    sources(again).filter((m) => m.startsWith('src/cli/actions/')),
    [],
    "no command's implementation in an up-to-date build",
  );
  const bundled = again.modules.filter((m) => m.startsWith('dist/'));
  assert.ok(bundled.length <= 10, `an up-to-date build loads ${bundled.length} modules of the bundle: ${bundled.join(', ')}`);
});

test("each command's implementation loads when it runs", () => {
  const r = loaded(['explain', 'sites/location_x', 'hv-1']);
  assert.is(r.code, 0);
  const sources = r.modules.flatMap(sourcesOf);
  assert.ok(sources.includes('src/cli/actions/explain.ts'), 'explain runs its implementation');
  assert.equal(
    sources.filter((m) => m.startsWith('src/cli/actions/') && m !== 'src/cli/actions/explain.ts'),
    [],
    "no other command's implementation",
  );
});

test('a check validates with the compiled validators and loads no ajv compiler', () => {
  const r = loaded(['check', 'sites/location_x']);
  assert.is(r.code, 0);
  // The site's validator and one installer line's, each a CommonJS module: the hook sees require().
  assert.ok(r.modules.includes('dist/validate/compiled/site.cjs'), 'the compiled site validator is loaded');
  const lines = r.modules.filter((m) => /^dist\/harvester\/compiled\/installer-[\d.]+\.cjs$/.test(m));
  assert.is(lines.length, 1, `one installer line's validator, not all of them: ${lines.join(', ')}`);
  // ajv's run-time helpers (ajv/dist/runtime/) are what the generated code calls; anything else of
  // ajv (its entry, ajv/dist/core, ajv/dist/compile/, the vocabularies) is the schema compiler.
  const ajv = r.modules.filter((m) => m.startsWith('node_modules/ajv/') && !m.startsWith('node_modules/ajv/dist/runtime/'));
  assert.equal(ajv, [], 'no module of the ajv compiler in a check');
});

test('--version loads nothing but bin/harvgen.js', () => {
  const r = loaded(['--version']);
  assert.is(r.code, 0);
  assert.equal(
    r.modules.filter((m) => !m.startsWith('node:')),
    ['bin/harvgen.js'],
  );
});

test.run();
