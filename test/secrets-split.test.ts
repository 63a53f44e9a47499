// The committed tree and the deploy tree (docs/inventory.md "Secrets and the committed tree"): `build`
// writes a fixed marker in place of every secret and reads none, so the repository, its
// committed out/ and CI need no secret; `build --deploy` reads and writes them, into a directory
// git ignores. The markers are ones the installer refuses, and the two trees never share a
// directory.
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fg from 'fast-glob';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { build, check } from '../src/index.ts';
import { initSite } from '../src/cli/init.ts';
import { DEPLOY_GITIGNORE } from '../src/emit/index.ts';
import { validateInstallerConfig } from '../src/harvester/installer-schema.ts';
import { SECRET_MARKERS } from '../src/load/secrets.ts';
import { isCryptHash } from '../src/util/sha512-crypt.ts';
import { EXAMPLE_SECRETS, exampleSite, exampleWithSecrets } from './helpers/example.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');
/** A regular file for a `.gitignore` link to point at. */
const DEPLOY_GITIGNORE_FILE = () => {
  const f = join(tempDir('gitignore-target'), 'gitignore');
  writeFileSync(f, DEPLOY_GITIGNORE);
  return f;
};
const installerSchema = JSON.parse(readFileSync(join(repo, 'schema/harvester-config.schema.json'), 'utf8')) as {
  properties: { token: { pattern: string } };
};
type Config = { token: string; os: { password?: string } };

/** The deploy trees of both example sites, with their secrets (and the password hash harvgen made). */
async function deployTrees() {
  const out = tempDir('deploy');
  const r = await build({ sites: [exampleWithSecrets('location_x'), exampleWithSecrets('location_y')], outDir: out, secrets: 'filled' });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return out;
}

test('no file of the example sites or of their committed out/ holds a secret value (or the hash of one)', async () => {
  const deploy = await deployTrees();
  const hv1 = parse(readFileSync(join(deploy, 'location_x/harvester/hv-1.yaml'), 'utf8')) as Config;
  const values = [...Object.values(EXAMPLE_SECRETS).flatMap((s) => [s.token, s.password ?? []].flat()), hv1.os.password!];
  assert.ok(hv1.token === EXAMPLE_SECRETS.location_x!.token, 'the deploy tree holds the token (so the search below can find it)');
  const files = fg.sync(['sites/**', 'out/**'], { cwd: repo, dot: true, ignore: ['**/secrets/**', 'out/.harvgen-cache/**'] });
  assert.ok(files.length > 40, `${files.length} files`);
  for (const f of files) {
    const text = readFileSync(join(repo, f), 'utf8');
    for (const v of values) assert.not.ok(text.includes(v), `${f} holds a secret value`);
  }
  for (const f of fg.sync('out/*/harvester/*.yaml', { cwd: repo })) {
    const c = parse(readFileSync(join(repo, f), 'utf8')) as Config;
    assert.is(c.token, SECRET_MARKERS.token, f);
    assert.is(c.os.password, SECRET_MARKERS.password, f);
  }
});

test('the committed out/ is proven current without any secret (what CI runs)', async () => {
  const r = await build({
    sites: [join(repo, 'sites/location_x'), join(repo, 'sites/location_y')],
    outDir: join(repo, 'out'),
    check: true,
    env: {},
  });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  // A copy whose secret files hold other values builds the same committed tree byte for byte.
  const other = exampleWithSecrets('location_x');
  writeFileSync(join(other, 'secrets/token'), 'a-different-token\n');
  const a = tempDir();
  await build({ sites: [other], outDir: a });
  assert.equal(readTree(join(a, 'location_x')), readTree(join(repo, 'out/location_x')));
});

test('the markers are refused by the installer: a committed tree served by mistake installs nothing', async () => {
  // Every installer release v1.2 to v1.9 checks the token against this pattern before installing.
  const tokenPattern = new RegExp(installerSchema.properties.token.pattern);
  assert.ok(tokenPattern.test(EXAMPLE_SECRETS.location_x!.token), 'the pattern accepts a real token');
  assert.not.ok(tokenPattern.test(SECRET_MARKERS.token), 'the token marker is refused');
  // A `$` password is written verbatim as the hash: the marker is no hash, so no password logs in.
  assert.ok(SECRET_MARKERS.password.startsWith('$') && !isCryptHash(SECRET_MARKERS.password));
  assert.not.ok(SECRET_MARKERS.password.includes(':'), 'no field separator of /etc/shadow');
  for (const f of fg.sync('out/*/harvester/*.yaml', { cwd: repo })) {
    const issues = validateInstallerConfig('1.6', parse(readFileSync(join(repo, f), 'utf8')));
    assert.equal(issues.map((i) => [...i.path, i.key ?? ''].filter(Boolean).join('.')).sort(), ['os.password', 'token'], f);
  }
  // The markers are fixed: the committed tree tells nothing of the secrets, not even their length.
  assert.not.ok(/[0-9a-f]{8}/.test(SECRET_MARKERS.token + SECRET_MARKERS.password));
});

test('a secret set through config: is a marker in the committed tree too; the manifest names the kind of tree', async () => {
  const dir = join(tempDir(), 'sites/location_x');
  mkdirSync(dir, { recursive: true });
  const doc = exampleSite();
  (doc.defaults as Record<string, unknown>).config = { token: 'config-token-1234', os: { password: 'config-password-1234' } };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  const out = tempDir();
  const r = await build({ sites: [dir], outDir: out });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const tree = readTree(join(out, 'location_x'));
  for (const [path, text] of tree) assert.not.ok(/config-(token|password)-1234/.test(text), path);
  // Warned about like a plain-text cluster.token, and masked in what is printed.
  assert.equal(
    r.diagnostics.filter((x) => x.code === 'SECRET_INLINE').map((x) => [x.path, x.line !== undefined]),
    [
      ['defaults.config.token', true],
      ['defaults.config.os.password', true],
    ],
  );
  assert.not.ok(/config-(token|password)-1234/.test(JSON.stringify(r.diagnostics)));
  assert.is((JSON.parse(tree.get('manifest.json')!) as { secrets: string }).secrets, 'markers');
  const deploy = tempDir();
  const d = await build({ sites: [dir], outDir: deploy, secrets: 'filled' });
  assert.ok(d.ok, JSON.stringify(d.diagnostics));
  assert.is((parse(readFileSync(join(deploy, 'location_x/harvester/hv-1.yaml'), 'utf8')) as Config).token, 'config-token-1234');
  assert.is((JSON.parse(readFileSync(join(deploy, 'location_x/manifest.json'), 'utf8')) as { secrets: string }).secrets, 'filled');
});

test('the deploy tree is git-ignored, and the two trees never share a directory', async () => {
  const root = tempDir('split');
  mkdirSync(join(root, '.git'));
  const site = exampleWithSecrets('location_x', root);
  const sites = [site];
  // A new directory becomes a deploy tree: a .gitignore of `*` first.
  const deploy = join(root, 'deploy');
  const d = await build({ sites, outDir: deploy, secrets: 'filled' });
  assert.ok(d.ok, JSON.stringify(d.diagnostics));
  assert.is(readFileSync(join(deploy, '.gitignore'), 'utf8'), DEPLOY_GITIGNORE);
  assert.match(DEPLOY_GITIGNORE, /^\*$/m);
  // The committed tree refuses it, and the deploy tree refuses the committed one.
  const out = join(root, 'out');
  assert.ok((await build({ sites, outDir: out })).ok);
  const refused = async (o: Parameters<typeof build>[0], why: RegExp) => {
    const r = await build(o);
    const e = r.diagnostics.find((x) => x.code === 'EMIT_OUT_DIR_UNSAFE');
    assert.ok(!r.ok && e && why.test(e.message), JSON.stringify(r.diagnostics));
  };
  await refused({ sites, outDir: deploy }, /is a deploy tree/);
  await refused({ sites, outDir: out, secrets: 'filled' }, /holds the committed tree of site location_x/);
  await refused({ sites, outDir: out, secrets: 'filled', dryRun: true }, /holds the committed tree/);
  // A directory of the repository with other files in it is not taken for a deploy tree.
  const docs = join(root, 'docs');
  mkdirSync(docs);
  writeFileSync(join(docs, 'README.md'), 'notes\n');
  await refused({ sites, outDir: docs, secrets: 'filled' }, /inside the git repository .* not a deploy tree/);
  // Outside any repository (the served directory itself), any directory will do.
  const srv = tempDir('srv');
  writeFileSync(join(srv, 'index.html'), 'x');
  assert.ok((await build({ sites, outDir: srv, secrets: 'filled' })).ok);
  // A served copy of one site (rsync of deploy/<site>/: no root marker) is not overwritten with markers.
  const served = tempDir('served');
  cpSync(join(deploy, 'location_x'), join(served, 'location_x'), { recursive: true });
  await refused({ sites, outDir: served }, /holds the deploy tree of site location_x .*served copy/);
  // A deploy tree made at what becomes a site directory of the committed tree.
  const nested = join(tempDir('nested'), 'out');
  assert.ok((await build({ sites, outDir: join(nested, 'location_x'), secrets: 'filled' })).ok);
  await refused({ sites, outDir: nested }, /location_x is the root of a deploy tree/);
  // A .gitignore that is a directory or a link: neither tree, and no internal error.
  for (const make of [(p: string) => mkdirSync(p), (p: string) => symlinkSync(DEPLOY_GITIGNORE_FILE(), p)]) {
    const odd = tempDir('odd');
    make(join(odd, '.gitignore'));
    await refused({ sites, outDir: odd, secrets: 'filled' }, /\.gitignore is not a regular file/);
    await refused({ sites, outDir: odd }, /\.gitignore is not a regular file/);
  }
  // check --deploy reads the secrets (a missing one is an error); plain check does not.
  const bare = join(tempDir(), 'sites/location_x');
  mkdirSync(bare, { recursive: true });
  writeFileSync(join(bare, 'site.yaml'), readFileSync(join(repo, 'sites/location_x/site.yaml')));
  assert.equal((await check({ sites: [bare] })).diagnostics, []);
  assert.equal(
    (await check({ sites: [bare], secrets: 'filled' })).diagnostics.map((x) => x.code),
    ['SECRET_FILE_MISSING', 'SECRET_FILE_MISSING'],
  );
});

test('without --deploy a secret file is not read, but a link out of the repository is refused all the same', async () => {
  const root = tempDir('link-repo');
  mkdirSync(join(root, '.git'));
  const dir = join(root, 'sites/location_x');
  mkdirSync(join(dir, 'secrets'), { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), readFileSync(join(repo, 'sites/location_x/site.yaml')));
  writeFileSync(join(dir, 'secrets/password'), 'x-password\n');
  const outside = join(tempDir('outside'), 'token');
  writeFileSync(outside, 'not-for-the-nodes\n');
  symlinkSync(outside, join(dir, 'secrets/token'));
  const r = await check({ sites: [dir] });
  assert.equal(
    r.diagnostics.map((x) => [x.code, x.path, /is outside/.test(x.message)]),
    [['SECRET_FILE_MISSING', 'cluster.token', true]],
  );
});

test("init's files hold no secret value outside the git-ignored secrets/", async () => {
  const dir = join(tempDir(), 'sites/new');
  const r = await initSite(dir);
  assert.ok('files' in r);
  const secrets = ['token', 'password'].map((f) => readFileSync(join(dir, 'secrets', f), 'utf8').trim());
  assert.match(readFileSync(join(dir, 'secrets/.gitignore'), 'utf8'), /^\*$/m);
  for (const f of fg.sync('**', { cwd: dir, dot: true, ignore: ['secrets/token', 'secrets/password'] })) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const s of secrets) assert.not.ok(text.includes(s), `${f} holds a secret`);
  }
  const out = tempDir();
  const b = await build({ sites: [dir], outDir: out });
  assert.ok(b.ok, JSON.stringify(b.diagnostics));
  for (const [path, text] of readTree(join(out, 'new'))) for (const s of secrets) assert.not.ok(text.includes(s), path);
});

test.run();
