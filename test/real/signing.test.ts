// Signed trees with the real ssh-keygen (OpenSSH, Debian openssh-client): a deploy build with
// `signing:` writes manifest.json.sig, which `ssh-keygen -Y verify` accepts by hand as docs/verify.md
// shows and `harvgen verify` checks before any request; each mutation (a one-byte edit of
// manifest.json, a signature by another key, a missing signature, another namespace, another
// site's signed manifest, another trusted key) is VERIFY_SIGNATURE with no request made; the
// same inventory and key give byte-identical trees; a wrong or unreadable key stops the build at
// its setting (SIGNING_KEY_INVALID), a missing ssh-keygen is SIGNING_FAILED (exit 2); the key
// never lands in the tree, the printed output or the build state, and its temporary copy is
// removed; a build killed after its journal committed finishes with a signature that verifies;
// the real generated nginx never serves the signature (verify's probe catches it when it does).
// Keys are generated here: no private key is committed.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli.ts';
import { exitCode } from '../../src/diagnostics/exit.ts';
import { build, recoverSite, verify, type Diagnostic } from '../../src/index.ts';
import { parsePublicKey } from '../../src/sign/index.ts';
import { allowed, contentKind } from '../../src/verify/index.ts';
import { exampleWithSecrets } from '../helpers/example.ts';
import { tempDir } from '../helpers/tmp.ts';
import { readTree } from '../helpers/tree.ts';
import { withNetns } from './helpers/netns.ts';
import { prepareNginx, startNginx } from './helpers/nginx.ts';
import { describe, run } from './helpers/proc.ts';
import { requireProgram, requireRoot } from './helpers/programs.ts';

const have = requireProgram('ssh-keygen');
const bin = fileURLToPath(new URL('../../bin/harvgen.js', import.meta.url));
const root = tempDir('signing');
// ssh-keygen's key copies go to os.tmpdir(): a directory of this test's own, to prove them removed.
const privateTmp = join(root, 'tmp');
mkdirSync(privateTmp);
const savedTmp = process.env.TMPDIR;

/** A new key pair (no passphrase unless given); returns the private key's path. */
function keygen(file: string, type = 'ed25519', passphrase = ''): string {
  mkdirSync(join(file, '..'), { recursive: true });
  const r = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', 'ops@ci', '-f', file]);
  assert.is(r.status, 0, r.stderr?.toString());
  return file;
}

const pub = (key: string) => readFileSync(`${key}.pub`, 'utf8').trim();

/** location_x with its secrets and `signing:` (its key generated in its secrets/); returns the site directory. */
function signedSite(label: string, opts: { type?: string; publicKeyOf?: string; env?: string } = {}): { dir: string; key: string } {
  const dir = exampleWithSecrets('location_x', tempDir(`signing-${label}`));
  const key = keygen(join(dir, 'secrets/harvgen-sign'), opts.type);
  const ref = opts.env !== undefined ? `{ env: ${opts.env} }` : '{ file: secrets/harvgen-sign }';
  appendFileSync(join(dir, 'site.yaml'), `signing:\n  private_key: ${ref}\n  public_key: "${pub(opts.publicKeyOf ?? key)}"\n`);
  return { dir, key };
}

/** `ssh-keygen -Y verify` as docs/verify.md tells anyone to run it by hand; its exit status. */
function verifyByHand(tree: string, publicKeyLine: string, namespace = 'harvgen-manifest'): number {
  const signers = join(root, `allowed_signers-${Math.random().toString(36).slice(2)}`);
  writeFileSync(signers, `harvgen ${publicKeyLine}\n`);
  const r = spawnSync(
    'ssh-keygen',
    ['-Y', 'verify', '-f', signers, '-I', 'harvgen', '-n', namespace, '-s', join(tree, 'manifest.json.sig')],
    {
      input: readFileSync(join(tree, 'manifest.json')),
    },
  );
  return r.status ?? -1;
}

/** Sign `file` with `key` in `namespace`, the way an attacker with another key (or for another use) would. */
function signWith(key: string, file: string, namespace: string): string {
  const r = spawnSync('ssh-keygen', ['-Y', 'sign', '-f', key, '-n', namespace], { input: readFileSync(file) });
  assert.is(r.status, 0, r.stderr?.toString());
  return r.stdout.toString();
}

/** A boot server in this process serving a deploy tree as the generated nginx does (403 where `allow` and boot.verifiers leave 127.0.0.1 out). */
async function serve(tree: string): Promise<{ url: string; close: () => Promise<void> }> {
  const m = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as {
    boot: { verifiers?: string[] };
    files: { path: string; url?: string; allow?: string[] }[];
  };
  const byPath = new Map(m.files.filter((f) => f.url !== undefined).map((f) => [`/${f.path}`, f]));
  const server = http.createServer((req, res) => {
    const f = byPath.get(req.url ?? '');
    const send = (status: number, body: Buffer | string, type: string) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (!f) return send(req.url?.includes('/../') ? 400 : 404, 'not found', 'text/html');
    // As nginx does: a protected file to its own addresses and to the boot server itself (boot.verifiers).
    if (f.allow && !allowed('127.0.0.1', [...(m.boot.verifiers ?? []), ...f.allow])) return send(403, 'forbidden', 'text/html');
    send(200, readFileSync(join(tree, f.path)), contentKind(f.path) === 'text' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

/** Build the deploy tree of `dir` into `out`; the result. */
const deploy = (dir: string, out: string) => build({ sites: [dir], outDir: out, secrets: 'filled' });

let main1: { dir: string; key: string };
let out1 = '';
let tree1 = '';
const printed: string[] = [];

test.before(async () => {
  // Set for this suite only (uvu runs the suites of a run in one process), restored after it.
  process.env.TMPDIR = privateTmp;
  if (!have) return;
  main1 = signedSite('main');
  out1 = join(root, 'deploy');
  tree1 = join(out1, 'location_x');
  const r = await deploy(main1.dir, out1);
  printed.push(JSON.stringify(r.diagnostics));
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
});

test.after(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
});

test('a signed deploy tree: ssh-keygen -Y verify accepts it by hand, and harvgen verify passes against a server serving it', async () => {
  if (!have) return;
  const sig = readFileSync(join(tree1, 'manifest.json.sig'), 'utf8');
  assert.match(sig, /^-----BEGIN SSH SIGNATURE-----\n[\s\S]+\n-----END SSH SIGNATURE-----\n$/);
  assert.is(verifyByHand(tree1, pub(main1.key)), 0);
  // Not listed in the manifest it signs, and not served.
  assert.not.ok(readFileSync(join(tree1, 'manifest.json'), 'utf8').includes('manifest.json.sig'));
  assert.not.match(readFileSync(join(tree1, 'nginx/harvgen.conf'), 'utf8'), /manifest\.json/);
  const s = await serve(tree1);
  try {
    const r = await verify({ sites: [main1.dir], outDir: out1, urls: [s.url] });
    assert.equal(
      r.diagnostics.map((d) => `${d.code} ${d.file}`),
      [],
    );
    assert.ok(r.ok && r.checks > 40, `${r.checks} checks`);
  } finally {
    await s.close();
  }
});

/** A copy of the signed tree under a new deploy root, changed by `mutate`; verify's result against a server that serves it. */
async function mutated(label: string, mutate: (tree: string) => void, opts: { publicKey?: string; dir?: string } = {}) {
  const out = join(root, `mutant-${label}`);
  const tree = join(out, 'location_x');
  cpSync(tree1, tree, { recursive: true });
  mutate(tree);
  const s = await serve(tree);
  try {
    const publicKey = opts.publicKey !== undefined ? { publicKey: { line: opts.publicKey, from: 'the key of --public-key' } } : {};
    return { tree, out, r: await verify({ sites: [opts.dir ?? main1.dir], outDir: out, urls: [s.url], ...publicKey }) };
  } finally {
    await s.close();
  }
}

/** Exactly one diagnostic, VERIFY_SIGNATURE at the tree's manifest.json, and not one request made. */
function refused(r: Awaited<ReturnType<typeof verify>>, tree: string, message: RegExp): void {
  printed.push(JSON.stringify(r.diagnostics));
  assert.equal(
    r.diagnostics.map((d) => [d.code, d.file]),
    [['VERIFY_SIGNATURE', join(tree, 'manifest.json')]],
  );
  assert.match(r.diagnostics[0]!.message, message);
  assert.ok(r.diagnostics[0]!.hint!.includes('harvgen build --deploy'));
  assert.is(r.checks, 0, 'nothing of an unsigned tree is trusted: no request');
  assert.not.ok(r.ok);
  assert.is(exitCode(r.ok, r.diagnostics), 1);
}

test('a one-byte edit of manifest.json (a file hash pointed elsewhere) is VERIFY_SIGNATURE, no request made', async () => {
  if (!have) return;
  const { r, tree } = await mutated('edit', (t) => {
    const text = readFileSync(join(t, 'manifest.json'), 'utf8');
    const at = text.indexOf('"sha256": "') + '"sha256": "'.length;
    const edited = `${text.slice(0, at)}${text[at] === '0' ? '1' : '0'}${text.slice(at + 1)}`;
    assert.is(Buffer.byteLength(edited), Buffer.byteLength(text));
    writeFileSync(join(t, 'manifest.json'), edited);
  });
  refused(r, tree, /does not verify for this manifest\.json .*incorrect signature/);
});

test('a signature by another key is VERIFY_SIGNATURE', async () => {
  if (!have) return;
  const other = keygen(join(root, 'other/key'));
  const { r, tree } = await mutated('other-key', (t) =>
    writeFileSync(join(t, 'manifest.json.sig'), signWith(other, join(t, 'manifest.json'), 'harvgen-manifest')),
  );
  refused(r, tree, /does not verify/);
});

test('a missing signature is VERIFY_SIGNATURE: an unsigned manifest is trusted for nothing', async () => {
  if (!have) return;
  const { r, tree } = await mutated('missing', (t) => rmSync(join(t, 'manifest.json.sig')));
  refused(r, tree, /manifest\.json\.sig is missing: the site has a signing key/);
});

test('a signature by the right key in another namespace (made for another use) is VERIFY_SIGNATURE', async () => {
  if (!have) return;
  const { r, tree } = await mutated('namespace', (t) =>
    writeFileSync(join(t, 'manifest.json.sig'), signWith(main1.key, join(t, 'manifest.json'), 'file')),
  );
  refused(r, tree, /namespace does not match/);
});

test("another site's manifest, signed with the same key, is VERIFY_SIGNATURE for this site", async () => {
  if (!have) return;
  const { r, tree } = await mutated('other-site', (t) => {
    const m = JSON.parse(readFileSync(join(t, 'manifest.json'), 'utf8')) as { site: string };
    m.site = 'location_z';
    const text = JSON.stringify(m, null, 2) + '\n';
    writeFileSync(join(t, 'manifest.json'), text);
    writeFileSync(join(t, 'manifest.json.sig'), signWith(main1.key, join(t, 'manifest.json'), 'harvgen-manifest'));
  });
  refused(r, tree, /signed, but for the site location_z/);
});

test('--public-key: another trusted key refuses the tree; the right one accepts it, also for an inventory without signing:', async () => {
  if (!have) return;
  const other = keygen(join(root, 'trusted/key'));
  const a = await mutated('trusted-other', () => {}, { publicKey: pub(other) });
  refused(
    a.r,
    a.tree,
    /with the key of --public-key .*does not verify|does not verify for this manifest\.json with the key of --public-key/,
  );
  const plain = exampleWithSecrets('location_x', tempDir('signing-plain'));
  const b = await mutated('trusted-right', () => {}, { publicKey: pub(main1.key), dir: plain });
  assert.equal(b.r.diagnostics, []);
  assert.ok(b.r.ok && b.r.checks > 0);
  // The CLI reads the .pub file, refuses one that is not a key (exit 2), and exits 1 on a bad signature.
  const io = () => {
    const o = { out: '', err: '' };
    return { o, io: { out: { write: (s: string) => (o.out += s) }, err: { write: (s: string) => (o.err += s) } } };
  };
  const bad = join(root, 'bad.pub');
  writeFileSync(bad, `cert-authority ${pub(other)}\n`);
  const u = io();
  assert.is(await main(['verify', plain, '--out', a.out, '--url', 'http://127.0.0.1:9', '--public-key', bad], u.io), 2, u.o.err);
  assert.match(u.o.err, /--public-key .*not one OpenSSH public key line/);
  const c = io();
  const code = await main(['verify', plain, '--out', a.out, '--url', 'http://127.0.0.1:9', '--public-key', `${other}.pub`, '--json'], c.io);
  assert.is(code, 1, c.o.out + c.o.err);
  assert.ok((JSON.parse(c.o.out) as { diagnostics: Diagnostic[] }).diagnostics.some((d) => d.code === 'VERIFY_SIGNATURE'));
});

test('harvgen verify asks the server for manifest.json.sig and the key file: both must be refused', async () => {
  if (!have) return;
  // A server that serves the signature and the key file: exposed, each at its URL.
  const server = http.createServer((req, res) => {
    if (req.url === '/manifest.json.sig' || req.url === '/secrets/harvgen-sign') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end('leaked');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const r = await verify({ sites: [main1.dir], outDir: out1, urls: [url] });
    const exposed = r.diagnostics.filter((d) => d.code === 'VERIFY_EXPOSED').map((d) => d.file);
    assert.ok(exposed.includes(`${url}/manifest.json.sig`), JSON.stringify(exposed));
    assert.ok(exposed.includes(`${url}/secrets/harvgen-sign`), JSON.stringify(exposed));
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

/**
 * The signed tree served by its own generated nginx/harvgen.conf (changed by `edit`) on
 * boot.server's address in a network namespace, and `harvgen verify --json` (bin/harvgen.js) run
 * there against the deploy tree.
 */
async function verifyWithNginx(label: string, edit: (conf: string) => string = (c) => c) {
  const prefix = tempDir(`signing-nginx-${label}`);
  const snippet = edit(readFileSync(join(tree1, 'nginx/harvgen.conf'), 'utf8'));
  const setup = await prepareNginx({ prefix, snippet, rewrite: { treeDir: tree1, artifactsDir: join(prefix, 'artifacts') } });
  return withNetns(`sign-${label}`, async (ns) => {
    await ns.sh(['ip', 'addr', 'add', '192.168.122.1/24', 'dev', 'lo']);
    const nginx = await startNginx(setup, { host: '192.168.122.1', port: 80 }, ns);
    try {
      const r = await run(ns.exec([process.execPath, bin, 'verify', main1.dir, '--out', out1, '--json']), {
        timeoutMs: 60_000,
        env: { ...process.env, NO_COLOR: '1' },
      });
      return { code: r.code, doc: JSON.parse(r.stdout) as { diagnostics: Diagnostic[]; checks: number }, report: describe(r) };
    } finally {
      await nginx.stop();
    }
  });
}

test('the real generated nginx never serves manifest.json.sig: verify passes; with the catch-all 404 removed it is VERIFY_EXPOSED', async () => {
  if (!have || !requireProgram('nginx', 'ip') || !requireRoot()) return;
  const fresh = await verifyWithNginx('fresh');
  assert.is(fresh.code, 0, fresh.report);
  assert.equal(fresh.doc.diagnostics, [], fresh.report);
  // The mutation: nginx serves the whole tree from its root, the signature with it.
  const exposed = await verifyWithNginx('exposed', (c) => {
    const edited = c.replace(/\n {4}location \/ \{\n {8}return 404;\n {4}\}\n/, '\n');
    assert.is.not(edited, c);
    return edited;
  });
  assert.is(exposed.code, 1, exposed.report);
  const sig = exposed.doc.diagnostics.find((d) => d.file === 'http://192.168.122.1/manifest.json.sig');
  assert.ok(sig?.code === 'VERIFY_EXPOSED', exposed.report);
  assert.match(sig!.message, /manifest\.json\.sig \(the signature of manifest\.json, never served\) is answered with status 200/);
});

test('determinism: the same inventory and key give byte-identical trees (Ed25519 and RSA); a rebuild rewrites nothing', async () => {
  if (!have) return;
  for (const type of ['ed25519', 'rsa']) {
    const s = type === 'ed25519' ? main1 : signedSite('rsa', { type: 'rsa' });
    const a = join(root, `det-${type}-a`);
    const b = join(root, `det-${type}-b`);
    assert.ok((await deploy(s.dir, a)).ok);
    assert.ok((await deploy(s.dir, b)).ok);
    const ta = readTree(join(a, 'location_x'));
    assert.ok(ta.has('manifest.json.sig'));
    assert.equal(ta, readTree(join(b, 'location_x')), type);
    // Signed twice by ssh-keygen, the same bytes; and no timestamp or commit id in the tree.
    assert.not.match(ta.get('manifest.json')!, /"(generated|built|date|time|commit)[a-z_]*":/i);
  }
  // In place: up to date (not compiled), and a forced build finds every file, the signature too, unchanged.
  // (Inputs or output changed within a build's own clock tick are compiled once more: one settling
  // rebuild, then a pause, so that the check below sees only what this test means.)
  await deploy(main1.dir, out1);
  await new Promise((r) => setTimeout(r, 300));
  const again = await deploy(main1.dir, out1);
  assert.ok(again.sites[0]!.upToDate, 'up to date');
  const forced = await build({ sites: [main1.dir], outDir: out1, secrets: 'filled', force: true });
  assert.equal(forced.sites[0]!.written, []);
  assert.ok(forced.sites[0]!.unchanged.includes('manifest.json.sig'));
  // build --deploy --check agrees; an edited signature is stale, then rewritten.
  assert.ok((await build({ sites: [main1.dir], outDir: out1, secrets: 'filled', check: true })).ok);
  const sigFile = join(tree1, 'manifest.json.sig');
  const good = readFileSync(sigFile, 'utf8');
  writeFileSync(sigFile, good.replace('A', 'B'));
  const stale = await build({ sites: [main1.dir], outDir: out1, secrets: 'filled', check: true });
  assert.ok(stale.diagnostics.some((d) => d.code === 'EMIT_STALE'));
  const fixed = await deploy(main1.dir, out1);
  assert.equal(fixed.sites[0]!.written, ['manifest.json.sig']);
  assert.is(readFileSync(sigFile, 'utf8'), good);
});

test('an { env } key signs the same bytes as the same key from a file', async () => {
  if (!have) return;
  const s = signedSite('env', { env: 'HARVGEN_TEST_SIGNING_KEY' });
  process.env.HARVGEN_TEST_SIGNING_KEY = readFileSync(s.key, 'utf8');
  try {
    const out = join(root, 'env-out');
    const r = await deploy(s.dir, out);
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    assert.is(verifyByHand(join(out, 'location_x'), pub(s.key)), 0);
    // Read from the environment: not recorded as clean (no stamp covers a variable), compiled again next time.
    assert.not.ok((await deploy(s.dir, out)).sites[0]!.upToDate);
  } finally {
    delete process.env.HARVGEN_TEST_SIGNING_KEY;
  }
});

test('a key that is not the public_key, a key with a passphrase, a file that is no key: SIGNING_KEY_INVALID at the setting, nothing written', async () => {
  if (!have) return;
  const cases: [string, () => { dir: string; key: string }, string, RegExp][] = [
    [
      'another key',
      () => signedSite('mismatch', { publicKeyOf: keygen(join(root, 'mismatch/key')) }),
      'signing.public_key',
      /is not the public half of signing\.private_key \(the file secrets\/harvgen-sign\), whose public key is ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}, not ssh-ed25519 SHA256:/,
    ],
    [
      'a passphrase',
      () => {
        const s = signedSite('passphrase');
        rmSync(s.key);
        rmSync(`${s.key}.pub`);
        keygen(s.key, 'ed25519', 'secret-passphrase');
        const yaml = readFileSync(join(s.dir, 'site.yaml'), 'utf8').replace(/public_key: ".*"/, `public_key: "${pub(s.key)}"`);
        writeFileSync(join(s.dir, 'site.yaml'), yaml);
        return s;
      },
      'signing.private_key',
      /not a private key ssh-keygen can read without a passphrase: .*incorrect passphrase/,
    ],
    [
      'no key at all',
      () => {
        const s = signedSite('garbage');
        writeFileSync(
          s.key,
          '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbCwganVzdCB0ZXh0IHRoYXQgbG9va3MgbGlrZSBvbmU=\n-----END OPENSSH PRIVATE KEY-----\n',
        );
        return s;
      },
      'signing.private_key',
      /not a private key ssh-keygen can read/,
    ],
  ];
  for (const [what, make, path, message] of cases) {
    const s = make();
    const out = join(root, `bad-${what.replace(/ /g, '-')}`);
    const r = await deploy(s.dir, out);
    printed.push(JSON.stringify(r.diagnostics));
    const d = r.diagnostics.filter((x) => x.severity === 'error');
    assert.equal(
      d.map((x) => [x.code, x.path]),
      [['SIGNING_KEY_INVALID', path]],
      what,
    );
    assert.match(d[0]!.message, message, what);
    assert.ok(d[0]!.line !== undefined && d[0]!.file?.endsWith('site.yaml'), `${what}: positioned`);
    assert.ok(d[0]!.hint!.includes('ssh-keygen'), what);
    assert.not.ok(existsSync(join(out, 'location_x')), `${what}: nothing written`);
    assert.not.ok(d[0]!.message.includes(privateTmp), `${what}: the temporary file's path is not shown`);
    if (what === 'another key') {
      // The fingerprint shown is the one ssh-keygen prints for the private key's public half.
      const fp = spawnSync('ssh-keygen', ['-l', '-f', `${s.key}.pub`])
        .stdout.toString()
        .split(' ')[1]!;
      assert.ok(d[0]!.message.includes(`ssh-ed25519 ${fp}, not`), `${d[0]!.message} lacks ${fp}`);
    }
  }
});

test('no ssh-keygen: SIGNING_FAILED naming the Debian package, exit 2, nothing written', async () => {
  if (!have) return;
  process.env.HARVGEN_SSH_KEYGEN = '/nonexistent/ssh-keygen';
  try {
    const out = join(root, 'no-keygen');
    const r = await deploy(main1.dir, out);
    const d = r.diagnostics.filter((x) => x.severity === 'error');
    assert.equal(
      d.map((x) => x.code),
      ['SIGNING_FAILED'],
    );
    assert.match(d[0]!.message, /was not found: install the Debian package openssh-client/);
    assert.is(exitCode(r.ok, r.diagnostics), 2);
    assert.not.ok(existsSync(join(out, 'location_x')));
    // verify likewise cannot check the signature: exit 2, not a verdict on the tree.
    const v = await verify({ sites: [main1.dir], outDir: out1, urls: ['http://127.0.0.1:9'] });
    assert.equal(
      v.diagnostics.map((x) => x.code),
      ['SIGNING_FAILED'],
    );
    assert.is(exitCode(v.ok, v.diagnostics), 2);
  } finally {
    delete process.env.HARVGEN_SSH_KEYGEN;
  }
});

test('signing turned off: the next deploy build removes manifest.json.sig with the old tree', async () => {
  if (!have) return;
  const s = signedSite('off');
  const out = join(root, 'off-out');
  assert.ok((await deploy(s.dir, out)).ok);
  assert.ok(existsSync(join(out, 'location_x/manifest.json.sig')));
  const yaml = readFileSync(join(s.dir, 'site.yaml'), 'utf8');
  writeFileSync(join(s.dir, 'site.yaml'), yaml.slice(0, yaml.indexOf('signing:\n')));
  const r = await deploy(s.dir, out);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.equal(r.sites[0]!.removed, ['manifest.json.sig']);
  assert.not.ok(existsSync(join(out, 'location_x/manifest.json.sig')));
});

test('a deploy build killed after its journal committed: recovery finishes it, and the new signature verifies the new manifest', async () => {
  if (!have) return;
  const s = signedSite('crash');
  const out = join(root, 'crash-out');
  assert.ok((await deploy(s.dir, out)).ok);
  const oldSig = readFileSync(join(out, 'location_x/manifest.json.sig'), 'utf8');
  // A change of every node's script: new manifest, new signature.
  const yaml = readFileSync(join(s.dir, 'site.yaml'), 'utf8');
  writeFileSync(join(s.dir, 'site.yaml'), yaml.replace(/^boot:\n/m, 'boot:\n  retries: 7\n'));
  const child = spawn(process.execPath, [bin, 'build', '--deploy', s.dir, '--out', out, '--quiet'], {
    env: { ...process.env, HARVGEN_TEST_CRASH: 'journal:1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
  assert.is(signal, 'SIGKILL', `the crash point was not reached: ${stderr}`);
  const tree = join(out, 'location_x');
  assert.is(readFileSync(join(tree, 'manifest.json.sig'), 'utf8'), oldSig, 'nothing applied before the crash');
  const recovery = await recoverSite(tree);
  assert.is(recovery.discarded, undefined, `the journal was discarded: ${recovery.discarded}`);
  assert.is(recovery.recovered, 'rolled-forward');
  assert.is.not(readFileSync(join(tree, 'manifest.json.sig'), 'utf8'), oldSig);
  assert.is(verifyByHand(tree, pub(s.key)), 0);
});

test('a hostile public_key written verbatim would let another key in: harvgen refuses the line, ssh-keygen would have trusted it', () => {
  if (!have) return;
  const mine = keygen(join(root, 'hostile/mine'));
  const evil = keygen(join(root, 'hostile/evil'));
  const line = `${pub(mine)}\nharvgen ${pub(evil)}`;
  assert.ok('problem' in parsePublicKey(line));
  // The mutation: the same line copied into the allowed-signers file as it is.
  const tree = join(root, 'hostile/tree');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'manifest.json'), readFileSync(join(tree1, 'manifest.json')));
  writeFileSync(join(tree, 'manifest.json.sig'), signWith(evil, join(tree, 'manifest.json'), 'harvgen-manifest'));
  assert.is(verifyByHand(tree, line), 0, "ssh-keygen accepts the evil key's signature through the injected line");
  assert.is.not(verifyByHand(tree, pub(mine)), 0);
});

test('the key never lands in the tree, the printed output or the build state; its temporary copies are removed', async () => {
  if (!have) return;
  const keyText = readFileSync(main1.key, 'utf8');
  const body = keyText.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  assert.ok(body.length >= 3);
  const haystacks = new Map<string, string>([['printed', printed.join('\n')]]);
  for (const dir of [out1, join(root, 'det-ed25519-a'), join(root, 'crash-out')])
    for (const f of readdirSync(dir, { recursive: true, withFileTypes: true }))
      if (f.isFile()) haystacks.set(join(f.parentPath, f.name), readFileSync(join(f.parentPath, f.name), 'latin1'));
  assert.ok(
    [...haystacks.keys()].some((k) => k.includes('.harvgen-cache')),
    'the build state was searched',
  );
  for (const [where, text] of haystacks) for (const line of body) assert.not.ok(text.includes(line), `${where} holds the key`);
  assert.equal(
    readdirSync(privateTmp).filter((n) => /^harvgen-(sign|verify)-/.test(n)),
    [],
  );
});

test.run();
