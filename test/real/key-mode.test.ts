// The real ssh-keygen (OpenSSH) judges harvgen's rule for the signing key's file mode
// (src/load/key-mode.ts): for each mode, `ssh-keygen -Y sign -f <key>` refuses the key ("UNPROTECTED
// PRIVATE KEY FILE") exactly when a deploy build refuses it (SECRET_KEY_UNPROTECTED), the key owned by
// this user; owned by another user (as root), ssh refuses none and harvgen only the ones others may write.
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSite } from '../../src/pipeline.ts';
import { exampleWithSecrets } from '../helpers/example.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram } from './helpers/programs.ts';

const MODES = [0o600, 0o400, 0o700, 0o640, 0o604, 0o644, 0o660, 0o606, 0o666, 0o610, 0o601, 0o620, 0o602];

/** location_x signed with a new Ed25519 key in its secrets/; the key's path. */
function signedSite(): { dir: string; key: string } {
  const dir = exampleWithSecrets('location_x', tempDir('key-mode-real'));
  const key = join(dir, 'secrets/harvgen-sign');
  const k = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ops@ci', '-f', key]);
  assert.is(k.status, 0, k.stderr?.toString());
  const pub = spawnSync('ssh-keygen', ['-y', '-f', key], { encoding: 'utf8' }).stdout.trim();
  appendFileSync(join(dir, 'site.yaml'), `signing:\n  private_key: { file: secrets/harvgen-sign }\n  public_key: "${pub}"\n`);
  return { dir, key };
}

/** Whether ssh-keygen refuses to sign with the key for its mode (and no other reason). */
function sshRefuses(key: string, dir: string): boolean {
  const file = join(dir, 'data');
  writeFileSync(file, 'data\n');
  const r = spawnSync('ssh-keygen', ['-Y', 'sign', '-f', key, '-n', 'harvgen', file], { encoding: 'utf8' });
  const refused = /UNPROTECTED PRIVATE KEY FILE/.test(r.stderr);
  assert.is(r.status === 0, !refused, `ssh-keygen: exit ${r.status}: ${r.stderr}`);
  return refused;
}

/** Whether a deploy build refuses the signing key for its mode. */
async function harvgenRefuses(dir: string): Promise<boolean> {
  const r = await compileSite(dir, { secrets: 'filled' });
  const others = r.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'SECRET_KEY_UNPROTECTED');
  assert.equal(
    others.map((d) => `${d.code} ${d.message}`),
    [],
  );
  return r.diagnostics.some((d) => d.code === 'SECRET_KEY_UNPROTECTED' && d.path === 'signing.private_key');
}

test('ssh-keygen -Y sign refuses the signing key for exactly the modes a deploy build refuses it (the key owned by this user)', async () => {
  if (!requireProgram('ssh-keygen')) return;
  const { dir, key } = signedSite();
  const verdicts: string[] = [];
  for (const mode of MODES) {
    chmodSync(key, mode);
    const ssh = sshRefuses(key, dir);
    const ours = await harvgenRefuses(dir);
    verdicts.push(`${mode.toString(8)} ssh:${ssh} harvgen:${ours}`);
    assert.is(ours, ssh, verdicts.join('\n'));
  }
  // The judge is not idle: ssh refuses most of these modes and accepts the owner-only ones.
  assert.equal(
    MODES.filter((_, i) => verdicts[i]!.includes('ssh:true')).map((m) => m.toString(8)),
    ['640', '604', '644', '660', '606', '666', '610', '601', '620', '602'],
  );
});

test('a signing key another user owns: ssh refuses none of the modes; harvgen refuses only those others may write', async () => {
  if (!requireProgram('ssh-keygen')) return;
  if (process.getuid?.() !== 0) return console.warn('SKIPPED: a key of another user (needs root to chown)');
  const { dir, key } = signedSite();
  chownSync(key, 65534, 65534);
  for (const mode of MODES) {
    chmodSync(key, mode);
    assert.is(sshRefuses(key, dir), false, mode.toString(8));
    assert.is(await harvgenRefuses(dir), (mode & 0o022) !== 0, mode.toString(8));
  }
});

test.run();
