// Private key files others may read or write (src/load/key-mode.ts): the signing key (an SSH key)
// is refused as ssh refuses it, SECRET_KEY_UNPROTECTED; the other keys (publish.key,
// publish.cosign_key, nginx.file_key) are refused when others may write them and warned of when
// they may read them, SECRET_KEY_READABLE. Each at the `file:` value that names the file, with
// the mode, who may do what, and `chmod 600 <path>`. The committed tree never reads a key and
// says nothing of its mode. pull refuses a publishing key others may access at all.
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../src/index.ts';
import { compileSite } from '../src/pipeline.ts';
import { keyModeProblem } from '../src/load/key-mode.ts';
import { PullConfigError, readKeyFile } from '../src/pull/config.ts';
import { publishedRepo } from './helpers/publish.ts';
import { tempDir } from './helpers/tmp.ts';

const FILES = {
  'signing.private_key': 'secrets/sign',
  'publish.key': 'secrets/publish-key',
  'publish.cosign_key': 'secrets/cosign.key',
  'nginx.file_key': 'secrets/file-key',
} as const;
type Key = keyof typeof FILES;

/** location_y with all four keys as files, each 0600. */
function site() {
  const repo = publishedRepo('registry.example.net/harvgen', { fileKey: true, cosign: 'ed25519', label: 'key-mode' });
  for (const f of Object.values(FILES)) chmodSync(join(repo.site, f), 0o600);
  const lines = readFileSync(join(repo.site, 'site.yaml'), 'utf8').split('\n');
  /** Where the inventory names the key's file: `line:col` of the `file:` value. */
  const at = (key: Key): string => {
    const file = FILES[key];
    const line = lines.findIndex((l) => l.includes(`{ file: ${file} }`));
    return `${line + 1}:${lines[line]!.indexOf(file) + 1}`;
  };
  return { repo, at, chmod: (key: Key, mode: number) => chmodSync(join(repo.site, FILES[key]), mode) };
}

/** The mode findings of a deploy build's compile, as `code severity path line:col`. */
async function findings(dir: string, cwd: string) {
  const r = await compileSite(dir, { cwd, secrets: 'filled' });
  const found = r.diagnostics.filter((d) => d.code === 'SECRET_KEY_UNPROTECTED' || d.code === 'SECRET_KEY_READABLE');
  return { list: found.map((d) => `${d.code} ${d.severity} ${d.path} ${d.line}:${d.col}`), found, all: r.diagnostics };
}

test('key files of mode 0600 compile without a word about their modes', async () => {
  const s = site();
  const r = await findings(s.repo.site, s.repo.root);
  assert.equal(r.list, []);
  assert.equal(
    r.all.filter((d) => d.severity === 'error').map((d) => d.message),
    [],
  );
});

test('the signing key readable by its group is refused as ssh refuses it, at its file: value, with the mode and `chmod 600 <path>`', async () => {
  const s = site();
  s.chmod('signing.private_key', 0o640);
  const r = await findings(s.repo.site, s.repo.root);
  assert.equal(r.list, [`SECRET_KEY_UNPROTECTED error signing.private_key ${s.at('signing.private_key')}`]);
  const d = r.found[0]!;
  assert.is(d.file, 'sites/location_y/site.yaml');
  assert.match(
    d.message,
    /^signing\.private_key comes from the file secrets\/sign, mode 0640: its group can read it: ssh refuses such a key as unprotected, and so does harvgen$/,
  );
  assert.match(d.hint!, /`chmod 600 sites\/location_y\/secrets\/sign`/);
});

test('the other keys: readable by others a warning, writable by others an error, each at its own file: value', async () => {
  const s = site();
  s.chmod('publish.key', 0o644);
  s.chmod('nginx.file_key', 0o604);
  s.chmod('publish.cosign_key', 0o660);
  const r = await findings(s.repo.site, s.repo.root);
  assert.equal(r.list.sort(), [
    `SECRET_KEY_READABLE warning nginx.file_key ${s.at('nginx.file_key')}`,
    `SECRET_KEY_READABLE warning publish.key ${s.at('publish.key')}`,
    `SECRET_KEY_UNPROTECTED error publish.cosign_key ${s.at('publish.cosign_key')}`,
  ]);
  const by = (p: string) => r.found.find((d) => d.path === p)!;
  assert.match(
    by('publish.key').message,
    /mode 0644: its group can read it, every other user can read it: on a machine other people use, they can read the key/,
  );
  assert.match(by('nginx.file_key').message, /mode 0604: every other user can read it/);
  assert.match(by('publish.cosign_key').message, /mode 0660: its group can read and write it: whoever may write it chooses the key/);
  for (const d of r.found) assert.match(d.hint!, new RegExp(`\`chmod 600 sites/location_y/${FILES[d.path as Key].replace('.', '\\.')}\``));
  // A world-writable publishing key is an error too, and a cwd outside the repository gives the absolute path.
  s.chmod('publish.key', 0o666);
  const far = await findings(s.repo.site, tempDir('key-mode-cwd'));
  const key = far.found.find((d) => d.path === 'publish.key')!;
  assert.is(key.severity, 'error');
  assert.match(key.hint!, new RegExp(`\`chmod 600 ${join(s.repo.site, 'secrets/publish-key')}\``));
});

test("a key file another user owns: its read bits are that user's choice (as ssh), a write bit by others is still an error", async () => {
  if (process.getuid?.() !== 0) return console.warn('SKIPPED: owned by another user (needs root to chown)');
  const s = site();
  chownSync(join(s.repo.site, FILES['signing.private_key']), 65534, 65534);
  s.chmod('signing.private_key', 0o644);
  chownSync(join(s.repo.site, FILES['publish.key']), 65534, 65534);
  s.chmod('publish.key', 0o646);
  const r = await findings(s.repo.site, s.repo.root);
  assert.equal(r.list, [`SECRET_KEY_UNPROTECTED error publish.key ${s.at('publish.key')}`]);
});

test('the committed tree (check, build without --deploy) never reads a key: nothing about its mode', async () => {
  const s = site();
  for (const k of Object.keys(FILES) as Key[]) s.chmod(k, 0o666);
  const r = await check({ sites: [s.repo.site], cwd: s.repo.root });
  assert.equal(
    r.diagnostics.filter((d) => d.code === 'SECRET_KEY_UNPROTECTED' || d.code === 'SECRET_KEY_READABLE').map((d) => d.code),
    [],
  );
});

test("keyModeProblem: ssh's rule for an SSH key; other keys refused when writable, warned when readable; another owner's read bits pass", () => {
  const me = 1000;
  const judge = (mode: number, kind: 'ssh' | 'other', uid = me) => keyModeProblem({ mode: 0o100000 | mode, uid }, kind, me)?.code ?? '-';
  const table: [number, string, string, string, string][] = [
    // mode, ssh (mine), other (mine), ssh (another's), other (another's)
    [0o600, '-', '-', '-', '-'],
    [0o400, '-', '-', '-', '-'],
    [0o700, '-', '-', '-', '-'],
    [0o640, 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_READABLE', '-', '-'],
    [0o604, 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_READABLE', '-', '-'],
    [0o610, 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_READABLE', '-', '-'],
    [0o620, 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_UNPROTECTED'],
    [0o602, 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_UNPROTECTED'],
    [0o666, 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_UNPROTECTED', 'SECRET_KEY_UNPROTECTED'],
  ];
  for (const [mode, ssh, other, sshTheirs, otherTheirs] of table)
    assert.equal(
      [judge(mode, 'ssh'), judge(mode, 'other'), judge(mode, 'ssh', 0), judge(mode, 'other', 0)],
      [ssh, other, sshTheirs, otherTheirs],
      mode.toString(8),
    );
  assert.is(keyModeProblem({ mode: 0o644, uid: me }, 'ssh', undefined), undefined, 'no POSIX user (Windows): nothing judged');
});

test('pull refuses a publishing key its group or others may read or write, saying who may do what', () => {
  const dir = tempDir('key-mode-pull');
  const file = join(dir, 'publish.key');
  writeFileSync(file, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
  assert.is(readKeyFile(file), 'ab'.repeat(32));
  for (const [mode, who] of [
    [0o644, 'its group can read it, every other user can read it'],
    [0o620, 'its group can write it'],
    [0o601, 'every other user can execute it'],
  ] as const) {
    chmodSync(file, mode);
    assert.throws(
      () => readKeyFile(file),
      (e: Error) =>
        e instanceof PullConfigError &&
        e.message === `the publishing key ${file} is open to others (mode 0${mode.toString(8)}: ${who}): \`chmod 600 ${file}\``,
    );
  }
});

test.run();
