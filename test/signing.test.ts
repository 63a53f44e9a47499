// Signed trees without the real ssh-keygen (test/real/signing.test.ts runs it): what
// signing.public_key may be (hostile lines refused at the key, the allowed-signers line rebuilt
// from the parsed parts alone), and that the committed tree is never signed and never reads the
// key: it builds with the key file absent, its variable unset and no ssh-keygen at all.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { main } from '../src/cli.ts';
import { build, check } from '../src/index.ts';
import { allowedSigners, parsePublicKey, signingKeyProblem, signText, type PublicKey } from '../src/sign/index.ts';
import { runKeygen } from '../src/sign/ssh-keygen.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';
import { readTree } from './helpers/tree.ts';

// Public keys only (no private key is committed anywhere), made with ssh-keygen -t ed25519 / ecdsa / rsa.
const ED25519_B64 = 'AAAAC3NzaC1lZDI1NTE5AAAAIFn8E/TrJ94TTdkw2H2PKFVgdJ3pCphVUD7E8QC1Xqjm';
const ED25519 = `ssh-ed25519 ${ED25519_B64} ops@ci`;
const OTHER_B64 = 'AAAAC3NzaC1lZDI1NTE5AAAAIIQpYBfZUB+pOFXEUbN8s18RXnfxUSLvz0MRArcUobKQ';
const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIJyuFFRpHE6dTa/ka+WwcwKROTod7yC44pRhn6fjVvmsMyEI5m733OeCMH690BoToQhZJIBfIWUFWbgXngDskI= ops@ci';
const RSA =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCOU7v1MnksMkoDzpCyEYreqr3wKX/iiyHo7/3MBungCwxIiB/a3g9jdpLzw6HFQs3cu2Tk5pZoX5QCUwWEDcpz26aCCUaLUH/3m9ne7J0+z91+/yGZr2RSs5GaHcRLY1Wt4Lxe0AYze+PMvrBNBuqwbrE86hgZp9vSm23VhHw/lC1P+ePi9RQsV7OZRY9MhsbOsiQXOFB8ieQO3nZ049KBIZ//ZbiNYb7/cAjPx6F1c/F68frVMokRj5vrfeDR4K8OZX0Pc9Acc/D6pSWf03Fxa3XNJxjKbV/opydfVrxCGo2NNvd3wnhiZi1FLBGgTpnt2PLoat+chqlnyOTG6XiCuJuVrccDE+vl4TwHWUeLfxrHceSALea2WjrNXZZy0uYZt6jlNiyy7s2uBPkOmP+Uh9lCxMoUMfuSjh9db5pt728E1HA1pGRfwCmBOixJsddH5hBQA1dRtQcFQ5I3bH+Puxnv2pFg7XB7V5ApG7CVwYJGpcTh6YAUn2CsZEeyMBc=';

/** A site directory whose site.yaml is the example's with `signing:` set to `signing`. */
function siteWith(signing: unknown, label = 'sign'): string {
  const dir = join(tempDir(label), 'sites', 'location_x');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify({ ...exampleSite('location_x'), signing }));
  return dir;
}

test('an Ed25519 or RSA public key line is accepted; the allowed-signers line holds only its type and key', () => {
  for (const line of [ED25519, RSA, `ssh-ed25519 ${ED25519_B64}`, `${ED25519} with "quotes" and #hash`]) {
    const key = parsePublicKey(line);
    assert.not.ok('problem' in key, `${line}: ${JSON.stringify(key)}`);
    assert.is(signingKeyProblem(key as PublicKey), undefined);
    const signers = allowedSigners(key as PublicKey);
    assert.is(signers, `harvgen ${line.split(' ').slice(0, 2).join(' ')}\n`);
  }
});

test('an ECDSA key is refused for signing: its signatures take a random nonce, the tree would differ at every build', () => {
  const key = parsePublicKey(ECDSA);
  assert.not.ok('problem' in key);
  assert.match(signingKeyProblem(key as PublicKey) ?? '', /random nonce.*differ at every deploy build/);
});

/** Lines that would change the allowed-signers file (a second key, options, a principal) or are not one key. */
const HOSTILE: readonly [string, string, RegExp][] = [
  ['a second line with another key', `ssh-ed25519 ${ED25519_B64}\nharvgen ssh-ed25519 ${OTHER_B64}`, /character "\\n"/],
  ['a carriage return', `ssh-ed25519 ${ED25519_B64}\rx`, /character "\\r"/],
  ['a NUL', `ssh-ed25519 ${ED25519_B64}\u0000`, /character "\\u0000"/],
  ['a tab', `ssh-ed25519\t${ED25519_B64}`, /character "\\t"/],
  ['the option cert-authority', `cert-authority ssh-ed25519 ${ED25519_B64}`, /not one OpenSSH public key line/],
  ['a namespaces= option', `namespaces="*" ssh-ed25519 ${ED25519_B64}`, /not one OpenSSH public key line/],
  ['a principal in front', `harvgen ssh-ed25519 ${ED25519_B64}`, /not one OpenSSH public key line/],
  ['two spaces', `ssh-ed25519  ${ED25519_B64}`, /not one OpenSSH public key line/],
  ['an unknown type', `ssh-dss ${ED25519_B64}`, /not one OpenSSH public key line/],
  ['a certificate type', `ssh-ed25519-cert-v01@openssh.com ${ED25519_B64}`, /not one OpenSSH public key line/],
  ['an Ed25519 key labelled ssh-rsa', `ssh-rsa ${ED25519_B64}`, /not a ssh-rsa key \(it names "ssh-ed25519"\)/],
  ['a truncated key', `ssh-ed25519 ${ED25519_B64.slice(0, 40)}`, /not a 32-byte Ed25519 key|not canonical base64/],
  ['an empty line', '', /not one OpenSSH public key line/],
  ['a line too long', `ssh-rsa ${'A'.repeat(5000)}`, /at most 4096/],
];

test('hostile signing.public_key values are refused, each with its reason', () => {
  for (const [what, line, why] of HOSTILE) {
    const key = parsePublicKey(line);
    assert.ok('problem' in key, `${what}: accepted`);
    assert.match((key as { problem: string }).problem, why, what);
  }
});

test('check refuses a hostile signing.public_key at the key (the schema for the form, the signing rule for the rest)', async () => {
  for (const [what, line] of [...HOSTILE, ['ECDSA', ECDSA] as const]) {
    const dir = siteWith({ private_key: { file: 'secrets/harvgen-sign' }, public_key: line }, 'sign-hostile');
    const r = await check({ sites: [dir] });
    assert.not.ok(r.ok, what);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.ok(
      errors.length > 0 &&
        errors.every(
          (d) =>
            ['SCHEMA_PATTERN', 'SCHEMA_RANGE', 'SCHEMA_INVALID', 'SIGNING_PUBLIC_KEY_INVALID'].includes(d.code) &&
            d.path?.startsWith('signing.public_key'),
        ),
      `${what}: ${JSON.stringify(errors.map((d) => [d.code, d.path, d.message]))}`,
    );
    assert.ok(
      errors.every((d) => d.line !== undefined),
      `${what}: not positioned`,
    );
  }
});

test('ssh-keygen that ends before it reads its input (a key it refuses) is its answer, not "could not be run"', () => {
  // The write of a large input to a program that has already exited fails with EPIPE; the program
  // ran, and its exit status and words are what the caller reports (a key with a passphrase).
  const dir = tempDir('keygen-epipe');
  const stub = join(dir, 'ssh-keygen');
  writeFileSync(stub, '#!/bin/sh\necho "Load key: incorrect passphrase supplied to decrypt private key" >&2\nexit 255\n');
  chmodSync(stub, 0o755);
  const before = process.env.HARVGEN_SSH_KEYGEN;
  process.env.HARVGEN_SSH_KEYGEN = stub;
  try {
    const big = 'x'.repeat(4 << 20);
    const run = runKeygen(['-Y', 'sign'], big);
    assert.is(run.status, 255);
    assert.match(run.stderr, /incorrect passphrase/);
    const signed = signText('not an ed25519 key\n', 'the file k', big, 'harvgen-manifest');
    assert.equal(signed, { problem: 'Load key: incorrect passphrase supplied to decrypt private key' });
    // A success without reading the whole input is no answer (verify must have read the text).
    const success = join(dir, 'ssh-keygen-0');
    writeFileSync(success, '#!/bin/sh\nexit 0\n');
    chmodSync(success, 0o755);
    process.env.HARVGEN_SSH_KEYGEN = success;
    assert.throws(() => runKeygen(['-Y', 'verify'], big), /could not be run: .*EPIPE/);
    process.env.HARVGEN_SSH_KEYGEN = join(dir, 'missing');
    assert.throws(() => runKeygen(['-Y', 'sign'], big), /was not found/);
  } finally {
    if (before === undefined) delete process.env.HARVGEN_SSH_KEYGEN;
    else process.env.HARVGEN_SSH_KEYGEN = before;
  }
});

test('the committed tree is not signed and reads no key: no key file, no variable, no ssh-keygen', async () => {
  const before = process.env.HARVGEN_SSH_KEYGEN;
  // Any call of ssh-keygen would fail: the committed build must make none.
  process.env.HARVGEN_SSH_KEYGEN = '/nonexistent/ssh-keygen';
  try {
    for (const private_key of [{ file: 'secrets/harvgen-sign' }, { env: 'HARVGEN_TEST_UNSET_SIGNING_KEY' }]) {
      const dir = siteWith({ private_key, public_key: ED25519 }, 'sign-committed');
      const out = join(dir, '../../out');
      const r = await build({ sites: [dir], outDir: out });
      assert.ok(r.ok, JSON.stringify(r.diagnostics));
      const tree = readTree(join(out, 'location_x'));
      assert.not.ok(tree.has('manifest.json.sig'));
      assert.ok(tree.has('manifest.json'));
      // Its inputs name no key file (the up-to-date check would watch it otherwise).
      assert.not.ok((r.compiled[0]!.inputs?.stamps ?? []).some((s) => s[0].endsWith('secrets/harvgen-sign')));
    }
  } finally {
    if (before === undefined) delete process.env.HARVGEN_SSH_KEYGEN;
    else process.env.HARVGEN_SSH_KEYGEN = before;
  }
});

test('the committed tree still refuses a key file outside the repository, as the deploy build would', async () => {
  const dir = siteWith({ private_key: { file: '../../../../etc/ssh/ssh_host_ed25519_key' }, public_key: ED25519 }, 'sign-outside');
  const r = await check({ sites: [dir] });
  const d = r.diagnostics.find((x) => x.code === 'SECRET_FILE_MISSING');
  assert.ok(d, JSON.stringify(r.diagnostics));
  assert.is(d!.path, 'signing.private_key');
  assert.ok(d!.line !== undefined);
});

test('a private key written inline in site.yaml is refused, and the printed code frame masks it', async () => {
  const body = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW';
  const dir = siteWith(
    { private_key: `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`, public_key: ED25519 },
    'sign-inline',
  );
  let err = '';
  let out = '';
  const code = await main(['check', dir], { out: { write: (t: string) => (out += t) }, err: { write: (t: string) => (err += t) } });
  assert.is(code, 1);
  assert.match(err, /signing\.private_key/);
  assert.ok(err.includes('***'), err);
  assert.not.ok((err + out).includes(body), err);
});

test.run();
