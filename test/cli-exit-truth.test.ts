// The exit code tells the truth, through the binary (test/exit-truth.test.ts has the rest): a warning
// and a 64 KiB password built by `harvgen build`: SECRET_TOO_LONG, exit 1, ok: false, nothing written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fg from 'fast-glob';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { generate } from './helpers/exit-truth.ts';

test('the finding: a warning and a 64 KiB password, built by the binary: SECRET_TOO_LONG, exit 1, ok: false, nothing written', () => {
  const repo = tempDir('exit-truth-bin');
  mkdirSync(join(repo, '.git'));
  const dir = join(repo, 'sites', 't');
  mkdirSync(dir, { recursive: true });
  const c = generate(42, 'warning');
  writeFileSync(join(dir, 'site.yaml'), c.yaml.replace(/ {2}password: .*/, `  password: ${'p'.repeat(64 * 1024)}`));
  const out = join(repo, 'out');
  for (const deploy of [[], ['--deploy']]) {
    const r = runCli(['build', dir, '--out', out, '--json', ...deploy]);
    const doc = JSON.parse(r.stdout) as { ok: boolean; diagnostics: { code: string; message: string; line?: number }[] };
    assert.is(r.code, 1, r.stderr);
    assert.is(doc.ok, false);
    const d = doc.diagnostics.find((x) => x.code === 'SECRET_TOO_LONG');
    assert.ok(
      d && d.line === 15 && /65536 bytes long; a secret may be at most 4096 bytes/.test(d.message),
      JSON.stringify(doc.diagnostics),
    );
    assert.not.ok(r.stdout.includes('pppppppp') || r.stderr.includes('pppppppp'), 'the password is not printed');
  }
  assert.equal(fg.sync('**/*', { cwd: out, dot: true, onlyFiles: true }), []);
});

test.run();
