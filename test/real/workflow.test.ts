// The documented workflow (docs/getting-started.md, docs/deploy.md), followed in a temporary git repository with the real git and rsync:
// `harvgen init`, build the committed tree, commit; CI in a fresh clone (no secrets there) runs
// `check` and `build --check`; the deploy machine runs `build --deploy` and rsyncs the deploy
// tree to the served directory. No secret value is in any committed file, and the served
// configs hold them.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { SECRET_MARKERS } from '../../src/load/secrets.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram } from './helpers/programs.ts';

const bin = resolve(import.meta.dirname, '../../bin/harvgen.js');

function sh(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      NO_COLOR: '1',
      GIT_AUTHOR_NAME: 'harvgen test',
      GIT_AUTHOR_EMAIL: 'test@example.invalid',
      GIT_COMMITTER_NAME: 'harvgen test',
      GIT_COMMITTER_EMAIL: 'test@example.invalid',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: cwd,
    },
  });
  return r;
}
const ok = (r: SpawnSyncReturns<string>, what: string) => assert.is(r.status, 0, `${what}: ${r.stdout}\n${r.stderr}`);
const harvgen = (args: string[], cwd: string) => sh(process.execPath, [bin, ...args], cwd);

test('the documented workflow: init, commit, CI in a clone without secrets, deploy with rsync; no secret is committed', () => {
  if (!requireProgram('git', 'rsync')) return;
  const repo = tempDir('workflow');
  ok(sh('git', ['init', '-q', '-b', 'main'], repo), 'git init');
  ok(harvgen(['init', 'sites/lab'], repo), 'harvgen init');
  const secrets = ['token', 'password'].map((f) => readFileSync(join(repo, 'sites/lab/secrets', f), 'utf8').trim());
  assert.ok(
    secrets.every((s) => s.length >= 16),
    'init wrote random secrets',
  );
  // The committed tree: built without reading a secret.
  ok(harvgen(['build'], repo), 'harvgen build');
  ok(sh('git', ['add', '-A'], repo), 'git add');
  ok(sh('git', ['commit', '-q', '-m', 'site lab'], repo), 'git commit');
  const committed = sh('git', ['ls-files'], repo).stdout.trim().split('\n');
  assert.ok(committed.includes('out/lab/harvester/node-1.yaml'), committed.join(' '));
  assert.ok(committed.includes('sites/lab/site.yaml'));
  assert.not.ok(
    committed.some((f) => f.startsWith('sites/lab/secrets/') && f !== 'sites/lab/secrets/.gitignore'),
    'no secret file is committed',
  );
  for (const f of committed) {
    const text = readFileSync(join(repo, f), 'utf8');
    for (const s of secrets) assert.not.ok(text.includes(s), `${f} holds a secret value`);
  }
  const config = parse(readFileSync(join(repo, 'out/lab/harvester/node-1.yaml'), 'utf8')) as { token: string; os: { password: string } };
  assert.equal([config.token, config.os.password], [SECRET_MARKERS.token, SECRET_MARKERS.password]);

  // CI: a clean clone has no secrets, and proves the committed tree current.
  const ci = tempDir('workflow-ci');
  ok(sh('git', ['clone', '-q', repo, ci], tempDir()), 'git clone');
  assert.not.ok(existsSync(join(ci, 'sites/lab/secrets/token')), 'the clone has no secret');
  ok(harvgen(['check'], ci), 'CI: harvgen check');
  ok(harvgen(['build', '--check'], ci), 'CI: harvgen build --check');
  // ...and catches a commit that changed the inventory but not the tree.
  const node = join(ci, 'sites/lab/nodes/node-1.yaml');
  const before = readFileSync(node, 'utf8');
  const after = before.replace(/^ip: (\d+\.\d+\.\d+)\.11$/m, 'ip: $1.19');
  assert.ok(after !== before, 'the edit changes the node');
  writeFileSync(node, after);
  const stale = harvgen(['build', '--check'], ci);
  assert.is(stale.status, 1, `${stale.stdout}\n${stale.stderr}`);
  assert.match(stale.stderr, /EMIT_STALE/);
  // The deploy build needs the secrets: in the clone it says which one is missing.
  const noSecrets = harvgen(['build', '--deploy'], ci);
  assert.is(noSecrets.status, 1, noSecrets.stderr);
  assert.match(noSecrets.stderr, /SECRET_FILE_MISSING/);

  // Deploy: where the secrets are, the deploy tree (git-ignored), copied to the served directory.
  ok(harvgen(['build', '--deploy'], repo), 'harvgen build --deploy');
  assert.is(sh('git', ['status', '--porcelain'], repo).stdout, '', 'the deploy tree is not seen by git');
  const served = join(tempDir('workflow-srv'), 'lab');
  ok(sh('rsync', ['-a', '--delete', 'deploy/lab/', `${served}/`], repo), 'rsync');
  const deployed = parse(readFileSync(join(served, 'harvester/node-1.yaml'), 'utf8')) as { token: string; os: { password: string } };
  assert.is(deployed.token, secrets[0]);
  assert.match(deployed.os.password, /^\$6\$/);
  assert.not.ok(existsSync(join(served, '.gitignore')), 'only the site directory is copied');
  // The two trees never mix: the committed tree refuses the deploy directory and the other way round.
  const mixed = harvgen(['build', '--deploy', '--out', 'out'], repo);
  assert.is(mixed.status, 2, mixed.stderr);
  assert.match(mixed.stderr, /EMIT_OUT_DIR_UNSAFE.*committed tree/s);
  const mixed2 = harvgen(['build', '--out', 'deploy'], repo);
  assert.is(mixed2.status, 2, mixed2.stderr);
  assert.match(mixed2.stderr, /is a deploy tree/);
});

test.run();
