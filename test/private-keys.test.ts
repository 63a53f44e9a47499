// SECRET_KEY_NOT_IGNORED in a repository of its own: a private key file (`signing.private_key`,
// `publish.key`) that git tracks or does not ignore is an error at the key that names it, wherever
// the file lives (the site directory, the repository's root); an ignored one is not; outside a
// git repository nothing is said; one git call per site compile, whatever the number of key files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../src/index.ts';
import { compileModel } from '../src/pipeline.ts';
import { listSitesForKeys, type KeyFileAnswers } from '../src/validate/rules/private-keys.ts';
import { tempDir } from './helpers/tmp.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures/check/publish-unsigned/good/site.yaml');

/** A repository (or a plain directory) holding sites/s1 with both keys given as files. */
function repo(opts: { git: boolean; signing: string; publish: string }) {
  const root = tempDir('private-keys');
  const site = join(root, 'sites/s1');
  mkdirSync(site, { recursive: true });
  const yaml = readFileSync(FIXTURE, 'utf8')
    .replace('private_key: { file: secrets/harvgen-sign }', `private_key: { file: ${opts.signing} }`)
    .replace('key: { file: secrets/publish-key }', `key: { file: ${opts.publish} }`);
  writeFileSync(join(site, 'site.yaml'), yaml);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, stdio: 'ignore' });
  if (opts.git) git('init', '-q');
  const put = (rel: string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), 'placeholder, not a key\n');
  };
  return { root, site, yaml, git, put };
}

/** Run `fn` with a `git` first on PATH that logs each call, then runs the real one: the calls' arguments. */
async function loggedGit(fn: () => Promise<void>): Promise<string[]> {
  const bin = tempDir('private-keys-bin');
  const log = join(bin, 'calls');
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(join(bin, 'git'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${realGit}' "$@"\n`, { mode: 0o755 });
  writeFileSync(log, '');
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  try {
    await fn();
  } finally {
    process.env.PATH = path;
  }
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** The SECRET_KEY_NOT_IGNORED findings of `check`, as `line:col path`. */
async function findings(site: string): Promise<string[]> {
  const r = await check({ sites: [site] });
  return r.diagnostics.filter((d) => d.code === 'SECRET_KEY_NOT_IGNORED').map((d) => `${d.line}:${d.col} ${d.path}`);
}

test('a key file git does not ignore is an error at its key; ignored, nothing; tracked although ignored, an error again', async () => {
  const r = repo({ git: true, signing: 'secrets/sign', publish: '../../secrets/publish-key' });
  r.put('sites/s1/secrets/sign');
  r.put('secrets/publish-key');
  const lines = r.yaml.split('\n');
  const at = (start: string) => `${lines.findIndex((l) => l.startsWith(start)) + 1}:3`;
  const both = [`${at('  private_key:')} signing.private_key`, `${at('  key:')} publish.key`];
  assert.equal(await findings(r.site), both);
  const d = (await check({ sites: [r.site] })).diagnostics.find((x) => x.code === 'SECRET_KEY_NOT_IGNORED')!;
  assert.is(d.severity, 'error');
  assert.match(d.message, /the signing key secrets\/sign is tracked by git or not ignored by it: `git add -A` would commit a private key/);
  assert.match(d.hint!, /add a line `\/sites\/s1\/secrets\/` to its \.gitignore/);
  writeFileSync(join(r.root, '.gitignore'), 'sites/*/secrets/\n/secrets/\n');
  assert.equal(await findings(r.site), []);
  r.git('add', '-f', 'secrets/publish-key');
  assert.equal(await findings(r.site), [both[1]!]);
});

test("one run's answers are kept (publish's two compiles ask git once); without them git is asked each time", async () => {
  const r = repo({ git: true, signing: 'secrets/sign', publish: 'secrets/publish-key' });
  r.put('sites/s1/secrets/sign');
  const answers: KeyFileAnswers = new Map();
  const loaded = async () => {
    const m = await compileModel(r.site, { keyFileAnswers: answers });
    return m.diagnostics.filter((d) => d.code === 'SECRET_KEY_NOT_IGNORED').length;
  };
  assert.is(await loaded(), 1);
  assert.is(answers.size, 1, 'one question to git, kept');
  writeFileSync(join(r.root, '.gitignore'), 'sites/*/secrets/\n');
  assert.is(await loaded(), 1, 'the kept answer, within the run');
  assert.equal(await findings(r.site), [], 'a new run asks git again');
});

test('a key file that does not exist, or a site outside any git repository: nothing said', async () => {
  const r = repo({ git: true, signing: 'secrets/sign', publish: 'secrets/publish-key' });
  assert.equal(await findings(r.site), []);
  const plain = repo({ git: false, signing: 'secrets/sign', publish: 'secrets/publish-key' });
  plain.put('sites/s1/secrets/sign');
  plain.put('sites/s1/secrets/publish-key');
  assert.equal(await findings(plain.site), []);
});

test('one git call per site compile for both key files', async () => {
  const r = repo({ git: true, signing: 'secrets/sign', publish: 'secrets/publish-key' });
  r.put('sites/s1/secrets/sign');
  r.put('sites/s1/secrets/publish-key');
  const calls = (await loggedGit(async () => assert.is((await findings(r.site)).length, 2))).length;
  assert.is(calls, 1);
});

test('one run asks git once about a directory of key files, for every site that keeps its keys there; what it says of each file is unchanged', async () => {
  const r = repo({ git: true, signing: '../../secrets/s1-sign', publish: '../../secrets/s1-publish' });
  mkdirSync(join(r.root, 'sites/s2'));
  writeFileSync(join(r.root, 'sites/s2/site.yaml'), r.yaml.replaceAll('s1-', 's2-'));
  for (const f of ['s1-sign', 's1-publish', 's2-sign', 's2-publish']) r.put(`secrets/${f}`);
  writeFileSync(join(r.root, '.gitignore'), '/secrets/\n');
  r.git('add', '-f', 'secrets/s2-publish');
  const answers: KeyFileAnswers = new Map();
  const found = async (site: string) =>
    (await compileModel(join(r.root, 'sites', site), { keyFileAnswers: answers })).diagnostics
      .filter((d) => d.code === 'SECRET_KEY_NOT_IGNORED')
      .map((d) => d.path);
  const calls = (
    await loggedGit(async () => {
      assert.equal(await found('s1'), []);
      assert.equal(await found('s2'), ['publish.key'], 'the tracked key of the second site, found from the same listing');
      assert.equal(await found('s1'), []);
    })
  ).filter((l) => l.startsWith('ls-files'));
  assert.is(calls.length, 1, calls.join('\n'));
  assert.match(calls[0]!, /:\(literal\)secrets$/);
});

test("before a run of several sites, one listing of the sites' directory answers each site's own key directory", async () => {
  const r = repo({ git: true, signing: 'secrets/sign', publish: 'secrets/publish-key' });
  mkdirSync(join(r.root, 'sites/s2'));
  writeFileSync(join(r.root, 'sites/s2/site.yaml'), r.yaml);
  for (const s of ['s1', 's2']) for (const f of ['sign', 'publish-key']) r.put(`sites/${s}/secrets/${f}`);
  writeFileSync(join(r.root, '.gitignore'), 'sites/*/secrets/\n');
  r.git('add', '-f', 'sites/s1/secrets/sign');
  const answers: KeyFileAnswers = new Map();
  const root = realpathSync(r.root);
  const found = async (site: string) =>
    (await compileModel(join(root, 'sites', site), { keyFileAnswers: answers })).diagnostics
      .filter((d) => d.code === 'SECRET_KEY_NOT_IGNORED')
      .map((d) => d.path);
  const calls = (
    await loggedGit(async () => {
      listSitesForKeys(root, [join(root, 'sites/s1'), join(root, 'sites/s2')], answers);
      assert.equal(await found('s1'), ['signing.private_key']);
      assert.equal(await found('s2'), []);
    })
  ).filter((l) => l.startsWith('ls-files'));
  assert.is(calls.length, 1, calls.join('\n'));
  assert.match(calls[0]!, /:\(literal\)sites$/);
});

test.run();
