// Exit codes never lie (issue 20, finding 5). Over generated inventories (a small seeded
// generator: valid ones, ones with warnings, with errors, with oversized secrets, with an
// internal error in rendering, with and without --strict): `build` exits 0 exactly when its
// --json says `ok: true`, and then the output tree equals a fresh build into an empty
// directory; when it fails, it exits non-zero and the previous tree is untouched (same files,
// same bytes, same modes, same mtimes). `check` agrees with build on success.
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fg from 'fast-glob';
import { build } from '../src/index.ts';
import { main } from '../src/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { type Kind, KINDS, generate } from './helpers/exit-truth.ts';

/** Every file under `dir` with its bytes, mode and mtime (the build state directory left out). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fg.sync('**/*', { cwd: dir, dot: true, onlyFiles: false, ignore: ['.harvgen-cache/**'] }).sort()) {
    const st = lstatSync(join(dir, f));
    out.set(f, `${st.mode.toString(8)} ${st.mtimeMs} ${st.isFile() ? readFileSync(join(dir, f), 'base64') : ''}`);
  }
  return out;
}

/** Files and their bytes and modes (what a fresh build must equal). */
function contents(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fg.sync('**/*', { cwd: dir, dot: true, onlyFiles: true, ignore: ['.harvgen-cache/**'] }).sort()) {
    out.set(f, `${(lstatSync(join(dir, f)).mode & 0o777).toString(8)} ${readFileSync(join(dir, f), 'base64')}`);
  }
  return out;
}

async function cli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; json: { ok: boolean; errors: number } }> {
  let out = '';
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const code = await main([...args, '--json'], { out: { write: (s: string) => (out += s) }, err: { write: () => true } });
    return { code, json: JSON.parse(out) as { ok: boolean; errors: number } };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const SEEDS = 20;

test(`property over ${SEEDS} seeds x ${KINDS.length} kinds: exit 0 <=> ok, ok => the tree of a fresh build, failure => the previous tree untouched`, async () => {
  const seen = new Map<Kind, { ok: number; failed: number }>();
  for (let seed = 1; seed <= SEEDS; seed++) {
    for (const kind of KINDS) {
      const c = generate(seed * 7919 + KINDS.indexOf(kind), kind);
      const what = `seed ${c.seed} (${kind}${c.strict ? ', --strict' : ''})`;
      const repo = tempDir('exit-truth');
      mkdirSync(join(repo, '.git'));
      const dir = join(repo, 'sites', 't');
      mkdirSync(dir, { recursive: true });
      const out = join(repo, 'out');
      // The previous tree: a valid inventory of the same site, built.
      writeFileSync(join(dir, 'site.yaml'), generate(c.seed, 'valid').yaml);
      const first = await build({ sites: [dir], outDir: out });
      assert.ok(first.ok, `${what}: the baseline builds: ${JSON.stringify(first.diagnostics)}`);
      const before = snapshot(join(out, 't'));
      // Make sure a rewrite would show in the mtimes.
      await new Promise((r) => setTimeout(r, 5));
      writeFileSync(join(dir, 'site.yaml'), c.yaml);
      const env: Record<string, string> = kind === 'internal' ? { HARVGEN_TEST_THROW: 'render' } : {};
      const flags = c.strict ? ['--strict'] : [];
      const b = await cli(['build', dir, '--out', out, ...flags], env);
      assert.is(b.code === 0, b.json.ok, `${what}: exit ${b.code} but ok: ${b.json.ok}`);
      const ch = await cli(['check', dir, ...flags], env);
      assert.is(ch.json.ok, b.json.ok, `${what}: check and build agree`);
      assert.is(ch.code === 0, ch.json.ok, `${what}: check exit ${ch.code} but ok: ${ch.json.ok}`);
      const tally = seen.get(kind) ?? { ok: 0, failed: 0 };
      seen.set(kind, tally);
      if (b.json.ok) {
        tally.ok++;
        const fresh = tempDir('exit-truth-fresh');
        const again = await build({ sites: [dir], outDir: fresh });
        assert.ok(again.ok, `${what}: a fresh build of what passed passes`);
        assert.equal(contents(join(out, 't')), contents(join(fresh, 't')), `${what}: the tree equals a fresh build`);
      } else {
        tally.failed++;
        assert.ok(b.code !== 0, `${what}: a failure exits non-zero`);
        assert.equal(snapshot(join(out, 't')), before, `${what}: the previous tree is untouched`);
      }
    }
  }
  // The generator reached every outcome it was meant to.
  assert.equal(seen.get('valid'), { ok: SEEDS, failed: 0 });
  assert.is(seen.get('oversized')!.ok, 0, 'an oversized secret always fails');
  assert.is(seen.get('internal')!.ok, 0, 'an internal error always fails');
  assert.is(seen.get('error')!.ok, 0);
  assert.ok(seen.get('warning')!.ok > 0 && seen.get('warning')!.failed > 0, JSON.stringify(seen.get('warning')));
});

test('an internal error in rendering, behind a warning: reported, exit 2, ok: false (it was dropped: exit 0, ok: true)', async () => {
  const repo = tempDir('exit-truth-internal');
  mkdirSync(join(repo, '.git'));
  const dir = join(repo, 'sites', 't');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), generate(7, 'internal').yaml);
  const out = join(repo, 'out');
  for (const args of [
    ['build', dir, '--out', out],
    ['build', dir, '--out', out, '--all-or-nothing'],
    ['check', dir],
  ]) {
    const r = await cli(args, { HARVGEN_TEST_THROW: 'render' });
    assert.is(r.code, 2, args.join(' '));
    assert.is(r.json.ok, false);
    assert.ok(r.json.errors >= 1);
  }
  const lib = await (async () => {
    process.env.HARVGEN_TEST_THROW = 'render';
    try {
      return await build({ sites: [dir], outDir: out });
    } finally {
      delete process.env.HARVGEN_TEST_THROW;
    }
  })();
  assert.is(lib.ok, false);
  assert.equal(lib.diagnostics.map((d) => d.code).sort(), ['INTERNAL_ERROR', 'SECRET_INLINE']);
});

test.run();
