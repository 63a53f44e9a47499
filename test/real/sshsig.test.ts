// An Ed25519 signature made in harvgen's process (src/sign/sshsig.ts) is the very bytes
// `ssh-keygen -Y sign` writes, and `ssh-keygen -Y verify` accepts it; any key it cannot read
// whole (RSA, a passphrase, a key whose halves disagree) goes to ssh-keygen instead.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allowedSigners, parsePublicKey, signText, SIGNER_IDENTITY, verifyText } from '../../src/sign/index.ts';
import { readEd25519Key, sshsig } from '../../src/sign/sshsig.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram } from './helpers/programs.ts';

const have = requireProgram('ssh-keygen');

function keygen(dir: string, name: string, ...args: string[]): { key: string; pub: string } {
  const file = join(dir, name);
  const r = spawnSync('ssh-keygen', ['-q', '-N', '', '-C', 'c', '-f', file, ...args]);
  assert.is(r.status, 0, r.stderr.toString());
  return { key: readFileSync(file, 'utf8'), pub: readFileSync(`${file}.pub`, 'utf8').trim() };
}

function theirs(dir: string, key: string, text: string, namespace: string): string {
  const file = join(dir, 'k-their');
  writeFileSync(file, key, { mode: 0o600 });
  const r = spawnSync('ssh-keygen', ['-Y', 'sign', '-P', '', '-n', namespace, '-f', file], { input: text });
  assert.is(r.status, 0, r.stderr.toString());
  return r.stdout.toString();
}

test("an Ed25519 signature is ssh-keygen's own bytes, and ssh-keygen verifies it", () => {
  if (!have) return;
  const dir = tempDir('sshsig');
  for (let i = 0; i < 3; i++) {
    const { key, pub } = keygen(dir, `k${i}`, '-t', 'ed25519');
    const k = readEd25519Key(key);
    assert.ok(k, 'an unencrypted Ed25519 key is read');
    assert.is(`ssh-ed25519 ${k!.publicBlob.toString('base64')}`, pub.split(' ').slice(0, 2).join(' '), 'the public key ssh-keygen wrote');
    for (const [text, ns] of [
      ['', 'harvgen-manifest'],
      ['{"files":[]}\n', 'harvgen-manifest'],
      ['x'.repeat(70_000), 'harvgen-publish'],
      ['ünïcode\r\n', 'harvgen-publish'],
    ] as const) {
      const mine = sshsig(k!, text, ns);
      assert.is(mine, theirs(dir, key, text, ns), `the same bytes (${text.length} characters, ${ns})`);
      const parsed = parsePublicKey(pub);
      assert.ok(!('problem' in parsed));
      if ('problem' in parsed) return;
      assert.is(verifyText(allowedSigners(parsed), SIGNER_IDENTITY, text, mine, ns), undefined);
      // Mutations: another namespace or another text does not verify.
      assert.ok(verifyText(allowedSigners(parsed), SIGNER_IDENTITY, text, sshsig(k!, text, `${ns}x`), ns) !== undefined);
      assert.ok(verifyText(allowedSigners(parsed), SIGNER_IDENTITY, `${text}.`, mine, ns) !== undefined);
    }
  }
});

test('RSA, ECDSA, a passphrase or a key whose halves disagree: not read here, signed (or refused) by ssh-keygen', () => {
  if (!have) return;
  const dir = tempDir('sshsig-other');
  const rsa = keygen(dir, 'rsa', '-t', 'rsa', '-b', '2048');
  const ecdsa = keygen(dir, 'ecdsa', '-t', 'ecdsa');
  assert.is(readEd25519Key(rsa.key), undefined);
  assert.is(readEd25519Key(ecdsa.key), undefined);
  const rsaSigned = signText(rsa.key, 'the file rsa', 'text\n', 'harvgen-manifest');
  assert.ok('signature' in rsaSigned, JSON.stringify(rsaSigned));
  const file = join(dir, 'pw');
  assert.is(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', file]).status, 0);
  const withPassphrase = readFileSync(file, 'utf8');
  assert.is(readEd25519Key(withPassphrase), undefined, 'an encrypted key is not read');
  const refused = signText(withPassphrase, 'the file pw', 'text\n', 'harvgen-manifest');
  assert.ok('problem' in refused, 'ssh-keygen refuses a key with a passphrase');
  // The private half of one key with the public half of another: not read here.
  const a = keygen(dir, 'a', '-t', 'ed25519');
  const body = Buffer.from(a.key.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const other = keygen(dir, 'b', '-t', 'ed25519');
  const otherPk = Buffer.from(other.pub.split(' ')[1]!, 'base64').subarray(-32);
  const at = body.lastIndexOf(Buffer.from(a.pub.split(' ')[1]!, 'base64').subarray(-32));
  otherPk.copy(body, at); // the copy of the public key inside the private section
  const mixed = `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
  assert.is(readEd25519Key(mixed), undefined);
  assert.ok(readEd25519Key(a.key), 'the untouched key is read');
});

test.run();
