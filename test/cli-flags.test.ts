// Flags anywhere (issue 19, first finding): every flag means the same before and after the site
// directories. cac gives its parser the camel-cased names of boolean flags, so `build --dry-run
// <dir>` used to read the directory as the flag's value, build every site and write; the CLI now
// puts boolean flags last before parsing (booleanFlagsLast in src/cli/options.ts). Each case runs the real
// binary with the flag before and after the directories and checks what the flag does.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from './helpers/cli.ts';
import { assertJson, runCliWith } from './helpers/cli-spawn.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');
const X = join(repo, 'sites', 'location_x');

/** A site with an error (no nodes). */
function badSite(): string {
  const dir = join(tempDir('flags-bad'), 'bad');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'site.yaml'),
    'site: bad\nboot: { server: http://10.0.0.1 }\nnetwork: { cidr: 10.0.0.0/24, gateway: 10.0.0.1, dns: [10.0.0.1], dhcp_range: 10.0.0.100-10.0.0.199 }\n',
  );
  return dir;
}

/** argv with the flags before the directories, and after them. */
const both = (cmd: string, flags: string[], dirs: string[]): [string, string[]][] => [
  ['before', [cmd, ...flags, ...dirs]],
  ['after', [cmd, ...dirs, ...flags]],
];

for (const [where, argv] of both('build', ['--dry-run'], [X])) {
  test(`build --dry-run (${where} the directory) writes nothing and builds only that site`, () => {
    const out = join(tempDir('flags-dry'), 'out');
    const r = runCli([...argv, '--out', out], repo);
    assert.is(r.code, 0, r.stderr);
    assert.not.ok(existsSync(out), 'the output root was created');
    assert.match(r.stdout, /location_x/);
    assert.not.match(r.stdout + r.stderr, /location_y/, 'another site was built');
  });
}

for (const [where, argv] of both('build', ['--check'], [X])) {
  test(`build --check (${where} the directory) fails on a missing tree and writes nothing`, () => {
    const out = join(tempDir('flags-check'), 'out');
    const r = runCli([...argv, '--out', out], repo);
    assert.is(r.code, 1, r.stdout + r.stderr);
    assert.not.ok(existsSync(join(out, 'location_x')), 'the site was written');
    assert.match(r.stdout + r.stderr, /location_x/);
    assert.not.match(r.stdout + r.stderr, /location_y/, 'another site was checked');
  });
}

for (const [where, argv] of both('build', ['--all-or-nothing'], [X, 'BAD'])) {
  test(`build --all-or-nothing (${where} the directories) writes no site when one has errors`, () => {
    const out = join(tempDir('flags-aon'), 'out');
    const r = runCli([...argv.map((a) => (a === 'BAD' ? badSite() : a)), '--out', out, '--json'], repo);
    assert.is(r.code, 1, r.stdout + r.stderr);
    assert.not.ok(existsSync(join(out, 'location_x')), 'location_x was written');
    const doc = JSON.parse(r.stdout) as { sites: { site: string }[] };
    assert.equal(doc.sites.map((s) => s.site).sort(), ['bad', 'location_x'], 'both sites are part of the run');
  });
}

for (const [where, argv] of both('build', ['--force', '--quiet'], [X])) {
  test(`build --force --quiet (${where} the directory) compiles again and prints one line per site`, () => {
    const out = join(tempDir('flags-force'), 'out');
    assert.is(runCli(['build', X, '--out', out], repo).code, 0);
    const r = runCli([...argv, '--out', out], repo);
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stdout, /up to date/);
    assert.is(r.stdout.trim().split('\n').length, 1, r.stdout);
  });
}

for (const [where, argv] of both('check', ['--json', '--strict'], [X])) {
  test(`check --json --strict (${where} the directory) prints one JSON document for that site`, () => {
    const r = runCli(argv, repo);
    assert.is(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { sites: { site: string }[] };
    assert.equal(
      doc.sites.map((s) => s.site),
      ['location_x'],
    );
  });
}

for (const [where, argv] of both('explain', ['--json'], [X, 'hv-2'])) {
  test(`explain --json (${where} the arguments) prints JSON`, () => {
    const r = runCli(argv, repo);
    assert.is(r.code, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout));
  });
}

for (const [where, argv] of both('build', ['-q'], [X])) {
  test(`build -q (${where} the directory) is --quiet: one line per site, no hints`, () => {
    const out = join(tempDir('flags-q'), 'out');
    const r = runCli([...argv, '--out', out], repo);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout.trim().split('\n').length, 1, r.stdout);
    assert.match(r.stdout, /^location_x: /);
  });
}

test('build --quiet prints errors, not warnings: the number of warnings not shown instead', () => {
  const site = join(tempDir('flags-quiet-warn'), 'site');
  mkdirSync(site, { recursive: true });
  // Inline secrets: two SECRET_INLINE warnings.
  writeFileSync(
    join(site, 'site.yaml'),
    readFileSync(join(X, 'site.yaml'), 'utf8')
      .replace('token: { file: secrets/token }', 'token: quiet-token-1234')
      .replace('password: { file: secrets/password }', 'password: quiet-password'),
  );
  const out = join(tempDir('flags-quiet-out'), 'out');
  const loud = runCli(['build', site, '--out', out], repo);
  assert.is(loud.code, 0, loud.stderr);
  assert.match(loud.stderr, 'SECRET_INLINE');
  const quiet = runCli(['build', site, '--out', out, '--quiet', '--force'], repo);
  assert.is(quiet.code, 0, quiet.stderr);
  assert.not.match(quiet.stderr, 'SECRET_INLINE');
  assert.match(quiet.stderr, '2 warning(s) not shown (--quiet)');
  assert.is(quiet.stdout.trim().split('\n').length, 1, quiet.stdout);
});

for (const [where, argv] of both('build', ['--diff'], [X])) {
  test(`build --diff (${where} the directory) prints a diff of that site only and writes nothing`, () => {
    const out = join(tempDir('flags-diff'), 'out');
    const r = runCli([...argv, '--out', out], repo);
    assert.is(r.code, 0, r.stderr);
    assert.not.ok(existsSync(out), 'the output root was created');
    assert.match(r.stdout, /^diff --git a\/boot\.ipxe b\/boot\.ipxe$/m);
    assert.not.match(r.stdout + r.stderr, /location_y/, 'another site was built');
  });
}

for (const [where, argv] of both('init', ['--json'], ['DIR'])) {
  test(`init --json (${where} the directory) prints a schema-valid JSON document`, () => {
    const dir = join(tempDir('flags-init'), 'site');
    const r = runCli(argv.map((a) => (a === 'DIR' ? dir : a)));
    assert.is(r.code, 0, r.stderr);
    const doc = assertJson<{ command: string; created: string[] }>(r.stdout, 'init --json');
    assert.is(doc.command, 'init');
    assert.equal(readdirSync(dir).sort(), ['nodes', 'secrets', 'site.yaml']);
  });
}

for (const argv of [
  ['--json', 'hash-password'],
  ['hash-password', '--json'],
]) {
  test(`${argv.join(' ')} prints a schema-valid JSON document with the hash`, () => {
    const r = runCliWith(argv, { input: 'pw\n' });
    assert.is(r.code, 0, r.stderr);
    assert.match(assertJson<{ hash: string }>(r.stdout, argv.join(' ')).hash, /^\$6\$/);
  });
}

for (const [where, argv] of both('explain', ['--json'], [X, 'hv-2'])) {
  test(`explain --json (${where} the arguments) prints a schema-valid JSON document`, () => {
    const r = runCli(argv, repo);
    assert.is(r.code, 0, r.stderr);
    assert.is(assertJson<{ hostname: string }>(r.stdout, 'explain --json').hostname, 'hv-2');
  });
}

test('a flag after `--` is an argument, not a flag', () => {
  const r = runCli(['check', X, '--', '--json'], repo);
  assert.throws(() => JSON.parse(r.stdout));
});

test.run();
