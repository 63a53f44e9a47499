// `build --dry-run` / `--check` say what is true of each file (issue 19): `missing` (the build
// would write it, the output has none), `extra` (the previous build wrote it, this one would
// remove it) or `differs`; `--diff` prints a unified diff of each (git diff form: `git apply`
// turns the old tree into the new one; binary files named only) and writes nothing. No secret
// reaches a diff: neither the site's secret values nor an old (rotated) value at the same place.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { build, compileSite } from '../src/index.ts';
import { diffLines, splitLines, unifiedDiff } from '../src/cli/diff.ts';
import { changeLines, secretMasker, siteChanges, siteDiffs, siteSecrets } from '../src/cli/changes.ts';
import { SECRET_MARKERS } from '../src/load/secrets.ts';
import { runCli } from './helpers/cli.ts';
import { assertJson } from './helpers/cli-spawn.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');
const X = join(repo, 'sites', 'location_x');

// ---------------------------------------------------------------- the diff function

test('unifiedDiff: the diff -u form, with three lines of context and hunk ranges', () => {
  const a = 'a\nb\nc\nd\ne\nf\ng\nh\n';
  const b = 'a\nb\nc\nD\ne\nf\ng\nh\n';
  assert.is(unifiedDiff(a, b, { from: 'a/x', to: 'b/x' }), '--- a/x\n+++ b/x\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n');
  assert.is(unifiedDiff(a, a, { from: 'a/x', to: 'b/x' }), '', 'equal texts: no diff');
});

test('unifiedDiff: a new file, a removed file, a missing final newline', () => {
  assert.is(unifiedDiff('', 'x\ny\n', { from: '/dev/null', to: 'b/n' }), '--- /dev/null\n+++ b/n\n@@ -0,0 +1,2 @@\n+x\n+y\n');
  assert.is(unifiedDiff('x\n', '', { from: 'a/n', to: '/dev/null' }), '--- a/n\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n');
  assert.is(
    unifiedDiff('x\ny\n', 'x\ny', { from: 'a/n', to: 'b/n' }),
    '--- a/n\n+++ b/n\n@@ -1,2 +1,2 @@\n x\n-y\n+y\n\\ No newline at end of file\n',
  );
});

test('unifiedDiff: changes far apart get hunks of their own, near ones share one', () => {
  const lines = Array.from({ length: 30 }, (_, i) => `l${i + 1}\n`);
  const b = [...lines];
  b[1] = 'X2\n';
  b[27] = 'X28\n';
  const far = unifiedDiff(lines.join(''), b.join(''), { from: 'a', to: 'b' });
  assert.equal(
    far.split('\n').filter((l) => l.startsWith('@@')),
    ['@@ -1,5 +1,5 @@', '@@ -25,6 +25,6 @@'],
  );
  const c = [...lines];
  c[1] = 'X2\n';
  c[8] = 'X9\n'; // 6 unchanged lines apart: one hunk
  const near = unifiedDiff(lines.join(''), c.join(''), { from: 'a', to: 'b' });
  assert.equal(
    near.split('\n').filter((l) => l.startsWith('@@')),
    ['@@ -1,12 +1,12 @@'],
  );
});

/** Apply a unified diff (as produced here) to `a`. */
function applyDiff(a: string, diff: string): string {
  const old = splitLines(a);
  const out: string[] = [];
  let at = 0;
  const lines = diff.split('\n').slice(2, -1);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const m = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(l);
    if (m) {
      const start = Number(m[1]) - (m[2] === '0' ? 0 : 1);
      while (at < start) out.push(old[at++]!);
      continue;
    }
    const eol = lines[i + 1] === '\\ No newline at end of file' ? '' : '\n';
    if (l.startsWith('\\')) continue;
    if (l[0] === ' ' || l[0] === '-') {
      assert.is(old[at], l.slice(1) + eol, `context/removed line ${at + 1}`);
      at++;
    }
    if (l[0] === ' ' || l[0] === '+') out.push(l.slice(1) + eol);
  }
  while (at < old.length) out.push(old[at++]!);
  return out.join('');
}

/** Length of the longest common subsequence (the size a minimal diff keeps). */
function lcs(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = x === b[j - 1] ? diag + 1 : Math.max(row[j]!, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

test('unifiedDiff on 500 random pairs: applying it gives the new text, and it is minimal', () => {
  let seed = 19;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const hasPatch = spawnSync('patch', ['--version']).status === 0;
  const dir = tempDir('diff-patch');
  for (let round = 0; round < 500; round++) {
    const text = () => Array.from({ length: rand(25) }, () => 'abcdef'[rand(6)]!).join('\n') + (rand(4) === 0 ? '' : '\n');
    const a = text();
    const b = rand(5) === 0 ? a.replace(/c/g, 'C') : text();
    const d = unifiedDiff(a, b, { from: 'a/f', to: 'b/f' });
    assert.is(applyDiff(a, d), b, `round ${round}:\n${JSON.stringify(a)}\n${JSON.stringify(b)}\n${d}`);
    const ops = diffLines(splitLines(a), splitLines(b));
    assert.is(ops.filter((o) => o.kind === ' ').length, lcs(splitLines(a), splitLines(b)), `round ${round}: not minimal`);
    if (hasPatch && round < 60 && d !== '') {
      // GNU patch agrees (strict: no fuzz).
      writeFileSync(join(dir, 'f'), a);
      writeFileSync(join(dir, 'p.diff'), d);
      const r = spawnSync('patch', ['-s', '-p1', '-F0', '-i', 'p.diff'], { cwd: dir, encoding: 'utf8' });
      assert.is(r.status, 0, r.stdout + r.stderr);
      assert.is(readFileSync(join(dir, 'f'), 'utf8'), b, `patch, round ${round}`);
    }
  }
});

// ---------------------------------------------------------------- statuses and secrets, as data

test('siteChanges: a written file the tree lacks is missing, one it has differs, a removed one is extra', () => {
  const s = { written: ['a', 'b'], missing: ['b'], removed: ['c'] };
  assert.equal(siteChanges(s), [
    { path: 'a', status: 'differs' },
    { path: 'b', status: 'missing' },
    { path: 'c', status: 'extra' },
  ]);
  assert.equal(changeLines(s), ['  differs  a', '  missing  b', '  extra    c']);
});

test('siteDiffs: secret values are masked, and so is an old value at the same place (a rotated token)', () => {
  const out = tempDir('diff-secret');
  writeFileSync(join(out, 'config.yaml'), 'name: n1\ntoken: OLD-token-1234\nsame: OLD-token-1234 again\n');
  const artifacts = [{ path: 'config.yaml', contents: 'name: n1\ntoken: NEW-token-5678\nsame: NEW-token-5678 again\n', mode: 0o644 }];
  const [d] = siteDiffs(out, { written: ['config.yaml'], missing: [], removed: [] }, artifacts, ['NEW-token-5678']);
  assert.is(d!.status, 'differs');
  assert.not.match(d!.diff, /OLD-token|NEW-token/);
  assert.match(d!.diff, /^-token: \*\*\*$/m);
  assert.match(d!.diff, /^\+token: \*\*\*$/m);
  assert.match(d!.diff, /^-same: \*\*\* again$/m);
  const mask = secretMasker(['s3cr3t-value'], 'a: s3cr3t-value\n');
  assert.is(mask('-a: 0ld-value'), '-a: ***');
  assert.is(mask('+b: kept'), '+b: kept');
});

test('siteDiffs: a real token in a tree built before secrets became markers is masked too', () => {
  const out = tempDir('diff-marker');
  writeFileSync(join(out, 'n.yaml'), 'token: Real-token-of-old.4444\nos:\n  password: $6$salt$hash\n');
  const artifacts = [
    { path: 'n.yaml', contents: `token: "${SECRET_MARKERS.token}"\nos:\n  password: "${SECRET_MARKERS.password}"\n`, mode: 0o644 },
  ];
  const [d] = siteDiffs(out, { written: ['n.yaml'], missing: [], removed: [] }, artifacts, []);
  assert.not.match(d!.diff, /Real-token-of-old|\$6\$salt/);
  assert.match(d!.diff, /^-token: \*\*\*$/m);
  assert.match(d!.diff, /^- {2}password: \*\*\*$/m);
  assert.ok(d!.diff.includes(`+token: "${SECRET_MARKERS.token}"`), 'a marker is shown as it is');
});

test('build --diff of the committed tree over a tree that still holds the real token does not print it', () => {
  const out = join(tempDir('diff-old-tree'), 'out');
  assert.is(runCli(['build', X, '--out', out, '-q'], repo).code, 0);
  const config = join(out, 'location_x/harvester/hv-1.yaml');
  const text = readFileSync(config, 'utf8');
  assert.ok(text.includes(SECRET_MARKERS.token), 'the committed tree holds the token marker');
  writeFileSync(config, text.replace(/^token: .*$/m, 'token: Real-token-of-old.5555'));
  const r = runCli(['build', X, '--out', out, '--diff'], repo);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^-token: \*\*\*$/m);
  assert.not.ok(r.stdout.includes('Real-token-of-old.5555'), r.stdout);
});

test('siteDiffs: binary files are named only; a mode change is shown as git does; a file no longer built is deleted', () => {
  const out = tempDir('diff-binary');
  writeFileSync(join(out, 'ipxe.efi'), Buffer.from([0x4d, 0x5a, 0, 1]));
  writeFileSync(join(out, 'run.sh'), 'echo hi\n');
  chmodSync(join(out, 'run.sh'), 0o644);
  writeFileSync(join(out, 'gone.txt'), 'bye\n');
  const artifacts = [
    { path: 'ipxe.efi', contents: new Uint8Array([0x4d, 0x5a, 0, 2]), mode: 0o644 },
    { path: 'run.sh', contents: 'echo hi\n', mode: 0o755 },
  ];
  const diffs = siteDiffs(out, { written: ['ipxe.efi', 'run.sh'], missing: [], removed: ['gone.txt'] }, artifacts, []);
  const by = new Map(diffs.map((d) => [d.path, d]));
  assert.is(by.get('ipxe.efi')!.diff, 'diff --git a/ipxe.efi b/ipxe.efi\nBinary files a/ipxe.efi and b/ipxe.efi differ\n');
  assert.is(by.get('run.sh')!.diff, 'diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n');
  assert.is(by.get('gone.txt')!.status, 'extra');
  assert.is(
    by.get('gone.txt')!.diff,
    'diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n',
  );
});

test("siteSecrets: the site's resolved token and password", async () => {
  const dir = join(tempDir('diff-secrets'), 'site');
  mkdirSync(dir, { recursive: true });
  const doc = exampleSite();
  doc.cluster = { ...doc.cluster, token: 'Inline-token.9876', password: 'Inline-password.5432' };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  const site = await compileSite(dir);
  assert.equal(siteSecrets(site.model).sort(), ['Inline-password.5432', 'Inline-token.9876']);
  assert.equal(siteSecrets(undefined), []);
});

// ---------------------------------------------------------------- the binary

/** A built copy of location_x, then: boot.ipxe deleted, dnsmasq changed, a file only the previous manifest names. */
function staleTree(): { out: string; site: string } {
  const out = join(tempDir('diff-cli'), 'out');
  const r = runCli(['build', X, '--out', out, '-q'], repo);
  assert.is(r.code, 0, r.stderr);
  const site = join(out, 'location_x');
  rmSync(join(site, 'boot.ipxe'));
  writeFileSync(
    join(site, 'dnsmasq/global.conf'),
    readFileSync(join(site, 'dnsmasq/global.conf'), 'utf8').replace(/^enable-tftp$/m, '# tftp off'),
  );
  const manifest = JSON.parse(readFileSync(join(site, 'manifest.json'), 'utf8')) as {
    files: { path: string; sha256: string; size: number }[];
  };
  manifest.files.push({ path: 'old/extra.txt', sha256: '0'.repeat(64), size: 6 });
  writeFileSync(join(site, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  mkdirSync(join(site, 'old'));
  writeFileSync(join(site, 'old/extra.txt'), 'extra\n');
  return { out, site };
}

test('build --dry-run names each file missing, extra or differs (not "differs" for all)', () => {
  const { out } = staleTree();
  const r = runCli(['build', X, '--out', out, '--dry-run'], repo);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ {2}missing {2}boot\.ipxe$/m);
  assert.match(r.stdout, /^ {2}differs {2}dnsmasq\/global\.conf$/m);
  assert.match(r.stdout, /^ {2}extra {4}old\/extra\.txt$/m);
  assert.not.match(r.stdout, /differs {2}boot\.ipxe|differs {2}old\/extra/);
});

test('build --check lists the same (and exits 1 with EMIT_STALE); with -q only the summary', () => {
  const { out } = staleTree();
  const r = runCli(['build', X, '--out', out, '--check'], repo);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stdout, /^ {2}missing {2}boot\.ipxe$/m);
  assert.match(r.stdout, /^ {2}extra {4}old\/extra\.txt$/m);
  assert.match(r.stderr, /EMIT_STALE/);
  assert.not.match(r.stderr, /not written: {2}/, 'no empty "not written" list');
  const q = runCli(['build', X, '--out', out, '--check', '-q'], repo);
  assert.is(q.code, 1);
  assert.is(q.stdout.trim().split('\n').length, 1, q.stdout);
});

test('build --diff writes nothing and prints a diff that git apply turns into the built tree', () => {
  const { out, site } = staleTree();
  const before = readFileSync(join(site, 'dnsmasq/global.conf'), 'utf8');
  const r = runCli(['build', X, '--out', out, '--diff'], repo);
  assert.is(r.code, 0, r.stderr);
  assert.not.ok(existsSync(join(site, 'boot.ipxe')), '--diff wrote');
  assert.is(readFileSync(join(site, 'dnsmasq/global.conf'), 'utf8'), before, '--diff wrote');
  assert.match(
    r.stdout,
    /^diff --git a\/boot\.ipxe b\/boot\.ipxe\nnew file mode 100644\n--- \/dev\/null\n\+\+\+ b\/boot\.ipxe\n@@ -0,0 \+1,\d+ @@\n\+#!ipxe$/m,
  );
  assert.match(r.stdout, /^-# tftp off\n\+enable-tftp$/m);
  assert.match(r.stdout, /^diff --git a\/old\/extra\.txt b\/old\/extra\.txt\ndeleted file mode 100644$/m);
  assert.is(spawnSync('git', ['--version']).status, 0, 'git is needed (Debian package git)');
  const patch = r.stdout.slice(r.stdout.indexOf('diff --git'));
  writeFileSync(join(out, 'p.diff'), patch);
  const applied = spawnSync('git', ['apply', '--unsafe-paths', join(out, 'p.diff')], { cwd: site, encoding: 'utf8' });
  assert.is(applied.status, 0, applied.stderr);
  const again = runCli(['build', X, '--out', out, '--check'], repo);
  assert.is(again.code, 0, again.stdout + again.stderr);
});

test('build --check --diff: the diff, exit 1, nothing written; --diff --json: diffs[] in a schema-valid document', () => {
  const { out, site } = staleTree();
  const c = runCli(['build', X, '--out', out, '--check', '--diff'], repo);
  assert.is(c.code, 1);
  assert.match(c.stdout, /^diff --git a\/boot\.ipxe/m);
  assert.not.ok(existsSync(join(site, 'boot.ipxe')));
  const j = runCli(['build', X, '--out', out, '--diff', '--json'], repo);
  assert.is(j.code, 0, j.stderr);
  const doc = assertJson<{ diffs: { site: string; path: string; status: string; diff: string }[] }>(j.stdout, 'build --diff --json');
  assert.equal(
    doc.diffs.map((d) => [d.site, d.path, d.status]),
    [
      ['location_x', 'boot.ipxe', 'missing'],
      ['location_x', 'dnsmasq/global.conf', 'differs'],
      ['location_x', 'manifest.json', 'differs'],
      ['location_x', 'old/extra.txt', 'extra'],
    ],
  );
  assert.match(doc.diffs[0]!.diff, /^diff --git a\/boot\.ipxe b\/boot\.ipxe\n/);
});

test('build --deploy --diff: neither the new token nor the rotated one is printed', async () => {
  const root = tempDir('diff-deploy');
  mkdirSync(join(root, '.git'));
  const dir = join(root, 'sites', 'location_x');
  cpSync(X, dir, { recursive: true });
  const doc = exampleSite();
  doc.cluster = { ...doc.cluster, token: { file: 'secrets/token' }, password: { file: 'secrets/password' } };
  mkdirSync(join(dir, 'secrets'), { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  writeFileSync(join(dir, 'secrets/token'), 'Old-token-from-vault.1111\n');
  writeFileSync(join(dir, 'secrets/password'), 'Password-from-vault.2222\n');
  const out = join(root, 'deploy');
  const first = await build({ sites: [dir], outDir: out, secrets: 'filled' });
  assert.ok(first.ok, JSON.stringify(first.diagnostics));
  const deployed = readFileSync(join(out, 'location_x/harvester/hv-1.yaml'), 'utf8');
  assert.match(deployed, /Old-token-from-vault\.1111/);
  // The password hash (salted from the token: it changes with it) is a secret too.
  const hashes = [/password: (\$6\$\S+)/.exec(deployed)![1]!];
  writeFileSync(join(dir, 'secrets/token'), 'New-token-from-vault.3333\n');
  for (const json of [[], ['--json']]) {
    const r = runCli(['build', dir, '--deploy', '--out', out, '--diff', ...json], root);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /harvester\/hv-1\.yaml/);
    for (const secret of ['Old-token-from-vault.1111', 'New-token-from-vault.3333', 'Password-from-vault.2222', ...hashes])
      assert.not.ok((r.stdout + r.stderr).includes(secret), `${secret} printed (${json.join(' ')})`);
    assert.match(r.stdout, /-token: \*\*\*/);
  }
  // A node removed from the deploy tree: its deleted config is shown without its token or hash.
  const doc2 = exampleSite();
  doc2.cluster = doc.cluster;
  (doc2 as Record<string, unknown>).nodes = (doc2.nodes as unknown as unknown[]).slice(0, 2);
  writeFileSync(join(dir, 'site.yaml'), stringify(doc2));
  const gone = runCli(['build', dir, '--deploy', '--out', out, '--diff'], root);
  assert.is(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /^diff --git a\/harvester\/hv-3\.yaml b\/harvester\/hv-3\.yaml\ndeleted file mode/m);
  for (const secret of ['Old-token-from-vault.1111', ...hashes]) assert.not.ok(gone.stdout.includes(secret), `${secret} printed`);
});

test.run();
