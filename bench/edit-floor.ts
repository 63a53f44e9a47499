// The least a plain `build` after a one-node edit can cost, whatever design makes it proportional,
// against a cold build of the same site in the same run (docs/dev/incremental-build.md, "The
// floor of an edit"). A plain build cannot trust that anything is as it left it, so any design
// does at least what a no-op build does (look at every input and output file, read the record),
// and then, for the edited node, at least:
//   modules    load the compiler, beyond what a no-op build loads (YAML, validation, render)
//   record     read back what it keeps per node (today's companion file: one entry per node,
//              far less than per-node facts and fragments would hold)
//   manifest   manifest.json lists every file's SHA-256: read it, change the edited node's entry,
//              hash it and write it whole (temporary file, then rename)
//   rewrite    write the record and its companion anew, each with its MAC
// Each part is timed on the real files of the real build. The compile and render of the edited
// node itself, and the joins of every other site-wide file, are left out: the sum is a floor.
//   npm run bench:edit-floor -- [--rounds 3] [--dir /dev/shm] [--nodes 10000]
import { spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateRichRepo, nodeFile, RICH_TOKEN_ENV } from './gen.ts';

const args = process.argv.slice(2);
const value = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const rounds = Number(value('--rounds') ?? 3);
const nodes = Number(value('--nodes') ?? 10_000);
const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin/harvgen.js');
const work = mkdtempSync(join(value('--dir') ?? tmpdir(), 'harvgen-edit-floor-'));
const env = { ...process.env, [RICH_TOKEN_ENV]: process.env[RICH_TOKEN_ENV] ?? 'bench-token', NO_COLOR: '1' };

/** Wall time of a whole process, from spawn to exit. */
function timed(cmd: readonly string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, cmd, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 2000)}`);
  return ms;
}

/** Milliseconds to import the compiler after what a no-op build imports, in a fresh process. */
function compilerLoad(): number {
  const [before, compiler] = ['dist/orchestrate/build.js', 'dist/pipeline.js'].map((f) => JSON.stringify(join(repo, f)));
  const code = `await import(${before}); const t = performance.now(); await import(${compiler}); console.log(performance.now() - t);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`loading the compiler failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** Wall time of `fn`, in this process. */
function inProcess(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const root = join(work, 'repo');
generateRichRepo(root, 1, nodes);
const key = randomBytes(32);
const samples: Record<string, number[]> = { cold: [], noop: [], modules: [], record: [], manifest: [], rewrite: [] };
const loadAtStart = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
for (let i = 0; i < rounds; i++) {
  const out = join(work, `out-${i}`);
  samples.cold!.push(timed([bin, 'build', '--out', out], root));
  samples.noop!.push(timed([bin, 'build', '--out', out], root));
  // Loading the compiler, in a process that has loaded what a no-op build loads (the orchestrator).
  samples.modules!.push(compilerLoad());
  const cache = join(out, '.harvgen-cache');
  const recordFile = readdirSync(cache).find((f) => f.endsWith('.json'))!;
  const companionFile = recordFile.replace(/\.json$/, '.nodes');
  let record: unknown;
  let companion: unknown;
  samples.record!.push(
    inProcess(() => {
      // The record is its MAC on the first line, then its JSON (src/cache/index.ts).
      const text = readFileSync(join(cache, recordFile), 'utf8');
      record = JSON.parse(text.slice(text.indexOf('\n') + 1));
      companion = JSON.parse(readFileSync(join(cache, companionFile), 'utf8'));
    }),
  );
  const site = readdirSync(out).find((d) => !d.startsWith('.'))!;
  const manifestFile = join(out, site, 'manifest.json');
  samples.manifest!.push(
    inProcess(() => {
      // As bytes: decoding 16 MB to a string and encoding it back costs more than the rest.
      const bytes = readFileSync(manifestFile);
      const at = bytes.indexOf('"sha256": "') + '"sha256": "'.length;
      const changed = Buffer.concat([bytes.subarray(0, at), Buffer.from('0'.repeat(64)), bytes.subarray(at + 64)]);
      createHash('sha256').update(changed).digest('hex');
      writeFileSync(`${manifestFile}.tmp`, changed);
      renameSync(`${manifestFile}.tmp`, `${manifestFile}.bench`);
    }),
  );
  samples.rewrite!.push(
    inProcess(() => {
      for (const [value, file] of [
        [record, `${recordFile}.bench`],
        [companion, `${companionFile}.bench`],
      ] as const) {
        const text = JSON.stringify(value);
        createHmac('sha256', key).update(text).digest('hex');
        writeFileSync(join(cache, `${file}.tmp`), text);
        renameSync(join(cache, `${file}.tmp`), join(cache, file));
      }
    }),
  );
  // The edit the bench makes, so that the next round's cold build is of the same inventory shape.
  const file = nodeFile(root, 0, 3);
  writeFileSync(file, readFileSync(file, 'utf8'));
  rmSync(out, { recursive: true, force: true });
}
const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<string, number>;
const floor = ms.noop! + ms.modules! + ms.record! + ms.manifest! + ms.rewrite!;
const r = (x: number) => `${x.toFixed(0)} ms (${(x / ms.cold!).toFixed(3)}x)`;
console.log(`\n${nodes.toLocaleString('en')} rich nodes in 1 site, ${rounds} rounds, medians; load ${loadAtStart} at start`);
console.log(`| part | ms (/cold) |\n| --- | --- |`);
console.log(`| cold build | ${ms.cold!.toFixed(0)} |`);
for (const k of ['noop', 'modules', 'record', 'manifest', 'rewrite'] as const) console.log(`| ${k} | ${r(ms[k]!)} |`);
console.log(`| **floor of an edit** (the sum) | **${r(floor)}** |`);
rmSync(work, { recursive: true, force: true });
