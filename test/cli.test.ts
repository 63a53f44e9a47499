// The binary as a user runs it: help, version, exit codes, JSON, usage errors.
import { join, resolve } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hasStackTrace, runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { exampleWithSecrets } from './helpers/example.ts';

const repo = resolve(import.meta.dirname, '..');
const bad = join(repo, 'test/fixtures/check/node-duplicate-mac/bad');
const warn = join(repo, 'test/fixtures/check/node-device-unstable/bad');

test('--help lists the commands with examples and exits 0', () => {
  const r = runCli(['--help']);
  assert.is(r.code, 0);
  for (const word of ['check', 'build', 'watch', '--json', '--strict']) assert.ok(r.stdout.includes(word), word);
  const b = runCli(['build', '--help']);
  assert.is(b.code, 0);
  assert.match(b.stdout, /harvgen build sites\/location_x/);
  assert.match(b.stdout, /--out <dir>/);
});

test('--version prints the bare package version', () => {
  for (const flag of ['--version', '-v']) {
    const r = runCli([flag]);
    assert.is(r.code, 0);
    assert.is(r.stdout, `${JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version}\n`);
  }
});

test("`harvgen help <command>` prints that command's help; an unknown one is a usage error", () => {
  const r = runCli(['help', 'build']);
  assert.is(r.code, 0);
  assert.match(r.stdout, /harvgen build \[\.\.\.site-dirs\]/);
  assert.match(r.stdout, /--dry-run/);
  assert.is(runCli(['help']).code, 0);
  const bad = runCli(['help', 'biuld']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /did you mean "build"/);
});

test('an unknown top-level flag is a usage error with a suggestion, in JSON too with --json', () => {
  const r = runCli(['--jsn']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /unknown option `--jsn`; did you mean --json\?/);
  const j = runCli(['--stirct', '--json']);
  assert.is(j.code, 2);
  const doc = JSON.parse(j.stdout) as { version: number; ok: boolean; command: null; diagnostics: { code: string }[] };
  assert.equal([doc.version, doc.ok, doc.command, doc.diagnostics[0]!.code], [1, false, null, 'CLI_USAGE']);
  assert.is(j.stderr, '');
});

test('check of the example sites exits 0', () => {
  const r = runCli(['check', 'sites/location_x', 'sites/location_y'], repo);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok  sites\/location_x: site location_x, 3 nodes$/m);
  assert.match(r.stderr, /0 error\(s\), 0 warning\(s\) in 2 site\(s\)/);
});

test('an inventory with errors exits 1 and prints file:line:col, a code frame and a hint on stderr', () => {
  const r = runCli(['check', bad], repo);
  assert.is(r.code, 1);
  assert.is(r.stdout, '', 'results only on stdout');
  assert.match(r.stderr, /site\.yaml:25:10  error  NODE_DUPLICATE_MAC  /);
  assert.match(r.stderr, /> 25 \|     mac: 52-54-00-00-00-01/);
  assert.match(r.stderr, /\^{17}/);
  assert.match(r.stderr, /hint: /);
  assert.not.ok(hasStackTrace(r.stdout + r.stderr));
});

test('warnings pass without --strict and fail with it', () => {
  assert.is(runCli(['check', warn]).code, 0);
  assert.is(runCli(['check', warn, '--strict']).code, 1);
});

test('--json prints machine-readable diagnostics only', () => {
  const r = runCli(['check', bad, '--json']);
  assert.is(r.code, 1);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    errors: number;
    diagnostics: { code: string; line: number; col: number; file: string }[];
  };
  assert.is(out.ok, false);
  assert.is(out.errors, 1);
  const dup = out.diagnostics.find((d) => d.code === 'NODE_DUPLICATE_MAC')!;
  assert.ok(dup, JSON.stringify(out.diagnostics));
  assert.is(dup.line, 25);
  assert.is(dup.col, 10);
});

test('build --json reports the files of each site', () => {
  const out = tempDir();
  const r = runCli(['build', 'sites/location_x', '--out', out, '--json'], repo);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { ok: boolean; sites: { site: string; files: number; nodes: number }[] };
  assert.equal(
    j.sites.map((s) => [s.site, s.files, s.nodes]),
    [['location_x', 27, 3]],
  );
});

test('build prints a summary of files, nodes and where to point nginx and dnsmasq', () => {
  const out = tempDir();
  const r = runCli(['build', exampleWithSecrets('location_x'), '--deploy', '--out', out], repo);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /location_x: 27 files for 3 nodes in /);
  assert.match(r.stdout, /nginx\/harvgen\.conf/);
  assert.match(r.stdout, /dnsmasq\/global\.conf .*dnsmasq\/harvgen\.conf/);
});

test('an unknown command exits 2 with a suggestion', () => {
  const r = runCli(['buidl', 'sites/location_x'], repo);
  assert.is(r.code, 2);
  assert.match(r.stderr, /CLI_USAGE: unknown command "buidl"; did you mean "build"\?/);
});

test('an unknown flag exits 2 with a suggestion', () => {
  const r = runCli(['check', 'sites/location_x', '--stirct'], repo);
  assert.is(r.code, 2);
  assert.match(r.stderr, /Unknown option `--stirct`; did you mean --strict\?/);
  assert.not.ok(hasStackTrace(r.stderr));
});

test('too many arguments exit 2 with the command and its usage, not the parser words', () => {
  const r = runCli(['explain', 'sites/location_x', 'hv-1', 'hv-2'], repo);
  assert.is(r.code, 2);
  assert.match(
    r.stderr,
    /CLI_USAGE: too many arguments for `harvgen explain`: `hv-2` \(usage: harvgen explain <site-dir> <node>; `harvgen explain --help`\)/,
  );
  assert.not.match(r.stderr, /Unused args/);
});

test('a missing argument exits 2', () => {
  const r = runCli(['explain', 'sites/location_x']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /missing required args/i);
});

test('a --debounce that is not a number of milliseconds exits 2 before watching', () => {
  for (const v of ['abc', '-5', '1.5', '99999999']) {
    const r = runCli(['watch', 'sites/location_x', `--debounce=${v}`]);
    assert.is(r.code, 2, v);
    assert.match(r.stderr, /CLI_USAGE: --debounce must be a whole number of milliseconds/);
  }
});

test('no command prints the help and exits 2', () => {
  const r = runCli([]);
  assert.is(r.code, 2);
  assert.match(r.stdout, /Commands:/);
});

test('--help: every command has a description in the overview; bare `harvgen help` prints that same overview', () => {
  const overview = runCli(['--help']);
  assert.is(overview.code, 0);
  const commands = overview.stdout.slice(
    overview.stdout.indexOf('Commands:'),
    overview.stdout.indexOf('\n\n', overview.stdout.indexOf('Commands:')),
  );
  for (const name of ['check', 'build', 'watch', 'verify', 'explain', 'init', 'hash-password', 'help']) {
    const row = commands.split('\n').find((l) => l.trimStart().startsWith(`${name} `) || l.trim() === name);
    assert.ok(row, `${name} is not in the overview`);
    assert.match(row!, new RegExp(`^  ${name}\\b.*\\s{2}[A-Z][a-z]+\\W.{20,}$`), `${name} has no description: ${row}`);
  }
  const help = runCli(['help']);
  assert.is(help.code, 0);
  assert.is(help.stdout, overview.stdout, '`harvgen help` is the overview');
  assert.not.match(overview.stdout, /\(default: true\)/, 'no "(default: true)" after --no-color');
  const build = runCli(['help', 'build']);
  assert.is(build.stdout, runCli(['build', '--help']).stdout, '`harvgen help build` is `harvgen build --help`');
  assert.match(build.stdout, /-q, --quiet/);
  assert.match(build.stdout, /--diff/);
});

test('check and build without a directory, where there is no sites/, name the directory looked in', () => {
  const empty = tempDir('no-sites');
  for (const cmd of ['check', 'build']) {
    const r = runCli([cmd], empty);
    assert.is(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(`no site directory given, and no sites/ directory in ${empty}`), r.stderr);
  }
  mkdirSync(join(empty, 'sites'));
  const none = runCli(['check'], empty);
  assert.is(none.code, 2);
  assert.ok(none.stderr.includes(`${join(empty, 'sites')} holds no directory with a site.yaml`), none.stderr);
});

/** A site of generic OS nodes only: no Harvester node, so no artifacts/fetch.sh. */
function genericSite(): string {
  const dir = join(tempDir('generic'), 'gen');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'site.yaml'),
    [
      'site: gen',
      'boot: { server: http://10.9.0.1 }',
      'network: { cidr: 10.9.0.0/24, gateway: 10.9.0.1, dns: [10.9.0.1], dhcp_range: 10.9.0.100-10.9.0.199 }',
      'os_profiles:',
      '  rocky: { kernel: http://10.9.0.1/os/vmlinuz, initrds: [http://10.9.0.1/os/initrd.img], params: [ro] }',
      'nodes:',
      '  - { hostname: g1, mac: 52:54:00:09:00:01, ip: 10.9.0.11, os: rocky }',
      '',
    ].join('\n'),
  );
  return dir;
}

test('the deploy hints come once per run and name only files the sites have (no fetch.sh for a generic site)', () => {
  const gen = genericSite();
  const out = tempDir();
  const alone = runCli(['build', gen, '--out', out]);
  assert.is(alone.code, 0, alone.stderr);
  assert.match(alone.stdout, /nginx\/harvgen\.conf/);
  assert.match(alone.stdout, /dnsmasq\/harvgen\.conf/);
  assert.not.match(alone.stdout, /fetch\.sh/, 'a generic site is told to run artifacts/fetch.sh');
  // The committed tree of a Harvester site is not the one to serve: the hints say to build the deploy tree.
  const committed = runCli(['build', 'sites/location_x', gen, '--out', out], repo);
  assert.is(committed.code, 0, committed.stderr);
  assert.is(committed.stdout.match(/harvgen build --deploy/g)?.length, 1, committed.stdout);
  assert.not.match(committed.stdout, /serve: /);
  const deploy = tempDir();
  const both = runCli(['build', exampleWithSecrets('location_x'), gen, '--deploy', '--out', deploy], repo);
  assert.is(both.code, 0, both.stderr);
  assert.is(both.stdout.match(/serve: /g)?.length, 1, both.stdout);
  assert.is(both.stdout.match(/fetch\.sh/g)?.length, 1, both.stdout);
  assert.match(both.stdout, /run artifacts\/fetch\.sh \(location_x\) on the web server/);
  assert.ok(both.stdout.indexOf('next steps') > both.stdout.lastIndexOf(' files for '), 'the hints come after every site');
  const quiet = runCli(['build', 'sites/location_x', gen, '--out', out, '-q'], repo);
  assert.is(quiet.code, 0, quiet.stderr);
  assert.not.match(quiet.stdout, /serve: |next steps/);
});

test.run();
