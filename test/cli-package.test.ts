// The published package, as a user gets it: `npm pack`, install the tarball into an empty
// directory, then use it as a library (plain Node ESM and a TypeScript project) and as a
// command. Dependencies come from npm's cache (`npm ci` filled it), so this needs no network. The
// tarball is packed from a snapshot of this checkout (test/helpers/package.ts), so that npm never
// runs `prepare` here, which would compile dist/ again under the other test files.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packSnapshot, snapshotRepo } from './helpers/package.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

function sh(cmd: string, args: string[], cwd: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, NO_COLOR: '1', npm_config_audit: 'false', npm_config_fund: 'false' },
  });
  return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
}

let installed: string | undefined;
/** Pack the repo and install the tarball into a fresh directory (once per run). */
function install(): string {
  if (installed) return installed;
  const tarball = packSnapshot(snapshotRepo().dir);
  const app = tempDir('consumer');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const r = sh('npm', ['install', '--prefer-offline', '--no-package-lock', tarball], app);
  assert.is(r.code, 0, r.out);
  installed = app;
  return app;
}

test('the packed tarball holds compiled JavaScript with type declarations, not the TypeScript sources', () => {
  const pkg = join(install(), 'node_modules/harvgen');
  for (const f of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli.js',
    'bin/harvgen.js',
    'schema/site.schema.json',
    'templates/boot.ipxe.eta',
    'LICENSE',
  ])
    assert.ok(existsSync(join(pkg, f)), `${f} missing from the package`);
  assert.not.ok(existsSync(join(pkg, 'src')), 'src/ is shipped');
  assert.not.ok(existsSync(join(pkg, 'test')), 'test/ is shipped');
});

test('tsx and esbuild are not runtime dependencies of the installed package', () => {
  const modules = join(install(), 'node_modules');
  for (const dev of ['tsx', 'esbuild', 'typescript', 'uvu', 'prettier'])
    assert.not.ok(existsSync(join(modules, dev)), `${dev} was installed`);
});

test('the installed command builds the example site in an empty directory', () => {
  const app = install();
  cpSync(join(repo, 'sites/location_x'), join(app, 'sites/location_x'), { recursive: true });
  const r = sh(join(app, 'node_modules/.bin/harvgen'), ['build', 'sites/location_x', '--out', 'out'], app);
  assert.is(r.code, 0, r.out);
  const want = readFileSync(join(repo, 'out/location_x/manifest.json'), 'utf8');
  assert.is(readFileSync(join(app, 'out/location_x/manifest.json'), 'utf8'), want, 'the same tree as the committed out/');
});

test("`import { build } from 'harvgen'` works in plain Node ESM", () => {
  const app = install();
  cpSync(join(repo, 'sites/location_y'), join(app, 'sites/location_y'), { recursive: true });
  writeFileSync(
    join(app, 'lib.mjs'),
    "import { build } from 'harvgen';\nconst r = await build({ sites: ['sites/location_y'], outDir: 'lib-out' });\nconsole.log(JSON.stringify({ ok: r.ok, files: r.sites[0].files.length }));\n",
  );
  const r = sh(process.execPath, ['lib.mjs'], app);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /\{"ok":true,"files":\d+\}/);
});

test('a TypeScript project type-checks against the shipped declarations', () => {
  const app = install();
  writeFileSync(
    join(app, 'use.ts'),
    [
      "import { check, type CheckResult, type SiteInput, type Diagnostic } from 'harvgen';",
      "const input: Pick<SiteInput, 'site'> = { site: 'x' };",
      "const r: Promise<CheckResult> = check({ sites: ['sites/location_x'] });",
      'export const codes = r.then((x) => x.diagnostics.map((d: Diagnostic) => d.code));',
      'export { input };',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: [] },
      files: ['use.ts'],
    }),
  );
  const tsc = join(repo, 'node_modules/.bin/tsc');
  const r = sh(tsc, ['-p', 'tsconfig.json'], app);
  assert.is(r.code, 0, r.out);
});

test.run();
