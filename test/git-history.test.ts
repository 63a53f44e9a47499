// A run of many sites learns each site's last commit (the provenance's commit and serial) from one
// walk of a linear history (GitChanges.lastCommit) instead of a `git log -1` per site: its answer
// is the one `git log -1 -- <paths>` gives for every path set tried (a site directory, a site and
// a shared layer, a deleted file's directory, a path only the root commit touched); with a merge
// anywhere in the history, or a run of few sites, it does not answer (git is asked per site).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GitChanges } from '../src/publish/git-changes.ts';
import { tempDir } from './helpers/tmp.ts';

function repo() {
  const root = tempDir('git-history');
  let clock = 1_700_000_000;
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.net',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.net',
        GIT_AUTHOR_DATE: `@${clock} +0000`,
        GIT_COMMITTER_DATE: `@${clock} +0000`,
      },
    });
  const put = (rel: string, text: string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  const commit = (message: string) => {
    clock += 100;
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', message);
  };
  git('init', '-q', '-b', 'main');
  return { root, git, put, commit };
}

/** What `git log -1` says of `paths` (absolute), as GitChanges.lastCommit answers. */
function logOne(r: ReturnType<typeof repo>, paths: string[]) {
  const out = r.git('log', '-1', '--format=%H %ct', 'HEAD', '--', ...paths).trim();
  if (out === '') return undefined;
  const [commit, time] = out.split(' ');
  return { commit: commit!, serial: Number(time) };
}

function linear() {
  const r = repo();
  r.put('sites/old/site.yaml', 'site: old\n');
  r.put('README', 'root only\n');
  r.commit('root');
  r.put('sites/a/site.yaml', 'site: a\n');
  r.put('sites/b/site.yaml', 'site: b\n');
  r.put('sites/_defaults.yaml', 'x: 1\n');
  r.put('sites/a/gone/node.yaml', 'hostname: n1\n');
  r.commit('two sites');
  r.put('sites/a/nodes/n2.yaml', 'hostname: n2\n');
  r.commit('a node of a');
  r.put('sites/_defaults.yaml', 'x: 2\n');
  r.commit('defaults');
  rmSync(join(r.root, 'sites/a/gone'), { recursive: true });
  r.commit('a file of a deleted');
  r.put('sites/b/nodes/n1.yaml', 'hostname: n1\n');
  r.commit('a node of b');
  r.commit('empty');
  return r;
}

test("a linear history: every site's last commit is what `git log -1` says of its paths", () => {
  const r = linear();
  const git = new GitChanges(2000, 8);
  const at = (p: string) => join(r.root, p);
  const cases = [
    [at('sites/a')],
    [at('sites/b')],
    [at('sites/a'), at('sites/_defaults.yaml')],
    [at('sites/old')],
    [at('README')],
    [at('sites/a/nodes/n2.yaml')],
    [at('sites/old'), at('README')],
  ];
  const seen = new Set<string>();
  for (const paths of cases) {
    const want = logOne(r, paths);
    assert.ok(want, paths.join(' '));
    seen.add(want.commit);
    assert.equal(git.lastCommit(at('sites/a'), paths), want, paths.join(' '));
  }
  assert.ok(seen.size >= 4, 'the cases name several commits (not all the newest)');
  // A file that is gone names the commit that removed it, as git log does.
  mkdirSync(at('sites/a/gone'), { recursive: true });
  assert.equal(git.lastCommit(at('sites/a'), [at('sites/a/gone')]), logOne(r, [at('sites/a/gone')]));
});

test('a merge anywhere in the history, or a run of few sites: no answer (git is asked per site)', () => {
  const r = linear();
  assert.is(new GitChanges(2000, 7).lastCommit(join(r.root, 'sites/a'), [join(r.root, 'sites/a')]), undefined);
  r.git('checkout', '-q', '-b', 'side');
  r.put('sites/b/side.yaml', 'x\n');
  r.commit('side');
  r.git('checkout', '-q', 'main');
  r.put('sites/a/main.yaml', 'x\n');
  r.commit('main');
  r.git('merge', '-q', '--no-ff', '-m', 'merge', 'side');
  const git = new GitChanges(2000, 8);
  assert.is(git.lastCommit(join(r.root, 'sites/a'), [join(r.root, 'sites/a')]), undefined);
  assert.is(git.lastCommit(join(r.root, 'sites/b'), [join(r.root, 'sites/b')]), undefined);
});

test('a path outside the work tree, or one no commit touched: no answer', () => {
  const r = linear();
  const git = new GitChanges(2000, 8);
  const outside = tempDir('git-history-outside');
  assert.is(git.lastCommit(join(r.root, 'sites/a'), [join(r.root, 'sites/a'), outside]), undefined);
  r.put('sites/new/site.yaml', 'site: new\n');
  assert.is(git.lastCommit(join(r.root, 'sites/a'), [join(r.root, 'sites/new')]), undefined);
});

test.run();
