// The version store's tests (test/pull-store.test.ts): trees with known hashes, and a child
// process that pulls one version through the store and pauses at a named point
// (HARVGEN_TEST_PAUSE_AT) so that the test can kill -9 it there.
//
// Run as a script: `node --import tsx test/helpers/pull-store.ts <command> <stateDir> <root> <site> ...`
//   pull <seed> <serial>   recover, stage + write + commit the tree of <seed>, switch to it
//   flip <seedA> <seedB> <n> <doneFile>   switch between two committed versions n times, then touch doneFile
//   release <releaseDir>   place the release file of `releaseFixture` (streamed in two halves)
// Reloads are appended to <stateDir>/../reloads.log (one line: the digest hex then served).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { VersionStore, type SwitchHooks } from '../../src/pull/store.ts';
import { placeReleases } from '../../src/pull/releases.ts';
import type { Fetched } from '../../src/pull/fetch.ts';
import type { Source } from '../../src/publish/sink.ts';

const repo = resolve(import.meta.dirname, '../..');
const self = fileURLToPath(import.meta.url);

export const SITE = 'pull_site';

/** The 64-hex "digest" of a test version (the SHA-256 of its seed). */
export function hexOf(seed: string): string {
  return createHash('sha256').update(`version ${seed}`).digest('hex');
}

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The files of the test tree of `seed`: path -> { contents, mode }. Eight files, three levels. */
export function treeFiles(seed: string): Map<string, { contents: string; mode: number }> {
  const m = new Map<string, { contents: string; mode: number }>();
  m.set('boot.ipxe', { contents: `#!ipxe\necho version ${seed}\nchain ipxe/\${mac:hexhyp}.ipxe\n`, mode: 0o644 });
  m.set('manifest.json', { contents: JSON.stringify({ generator: 'harvgen', seed }) + '\n', mode: 0o644 });
  m.set('nginx/harvgen.conf', { contents: `server { listen 127.0.0.1:18089; root /srv/x; } # ${seed}\n`, mode: 0o644 });
  m.set('ipxe/52-54-00-00-00-01.ipxe', { contents: `#!ipxe\n# node 1 of ${seed}\n`, mode: 0o644 });
  m.set('ipxe/52-54-00-00-00-02.ipxe', { contents: `#!ipxe\n# node 2 of ${seed}\n`, mode: 0o644 });
  m.set('harvester/hv-1.yaml', { contents: `token: secret-of-${seed}\n`, mode: 0o644 });
  m.set('bmc/hv-1.sh', { contents: `#!/bin/sh\necho ${seed}\n`, mode: 0o755 });
  m.set('artifacts/big.bin', { contents: `${seed}\n`.repeat(40_000), mode: 0o644 });
  return m;
}

/** The SHA-256 of every file of the tree of `seed`, by path. */
export function expectedHashes(seed: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [p, f] of [...treeFiles(seed)].sort(([a], [b]) => (a < b ? -1 : 1))) out[p] = sha256(f.contents);
  return out;
}

/** Write the tree of `seed` into `dir`. */
export function writeTree(dir: string, seed: string): void {
  for (const [p, f] of treeFiles(seed)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), f.contents);
    chmodSync(join(dir, p), f.mode);
  }
}

/** The SHA-256 of every regular file under `dir` (links followed at the top only), by path. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const top = realpathSync(dir);
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(top, p)] = e.isFile() ? sha256(readFileSync(p)) : `not a file (${e.isSymbolicLink() ? 'link' : 'other'})`;
    }
  };
  walk(top);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The reload log beside the state directory. */
export function reloadLog(stateDir: string): string[] {
  try {
    return readFileSync(join(dirname(stateDir), 'reloads.log'), 'utf8')
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Hooks that check nothing and log each reload with what `root` serves then. */
export function loggingHooks(stateDir: string, root: string): SwitchHooks {
  return {
    check: () => undefined,
    reload: () => appendFileSync(join(dirname(stateDir), 'reloads.log'), `${readlinkSync(root).split('/').pop()}\n`),
  };
}

/** One pull of the tree of `seed` through the store (what `harvgen pull` does after its checks). */
export async function pullSeed(store: VersionStore, seed: string, serial: number): Promise<void> {
  const lock = store.lock();
  try {
    store.recover();
    await store.resumeReload(loggingHooks(store.stateDir, store.root));
    const hex = hexOf(seed);
    if (!store.has(hex)) {
      writeTree(store.stage(hex), seed);
      store.commit(hex);
    }
    await store.switchTo(hex, { serial }, loggingHooks(store.stateDir, store.root));
  } finally {
    lock.release();
  }
}

/** Children still running; killed when the test process exits, so a failed assertion never leaves one paused. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export interface PausedChild {
  child: ChildProcess;
  /** Resolves with the pause point reached, or rejects when the child exits first. */
  paused: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Start this file as a child with `args`, pausing at `pauseAt` (if given). */
export function startChild(args: readonly string[], pauseAt?: string): PausedChild {
  const env = { ...process.env };
  if (pauseAt) env.HARVGEN_TEST_PAUSE_AT = pauseAt;
  else delete env.HARVGEN_TEST_PAUSE_AT;
  const child = spawn(process.execPath, ['--import', 'tsx', self, ...args], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((res) =>
    child.on('close', (code, signal) => {
      live.delete(child);
      res({ code, signal, stderr });
    }),
  );
  const paused = new Promise<string>((res, rej) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /harvgen-pause (\S+)\n/.exec(stdout);
      if (m) res(m[1]!);
    });
    void exited.then((e) => rej(new Error(`child exited (${e.code ?? e.signal}) before pausing at ${pauseAt}:\n${stdout}\n${e.stderr}`)));
  });
  paused.catch(() => undefined); // awaited only by the tests that pause
  return { child, paused, exited };
}

/** The release file of `releaseFixture`: 128 KiB, streamed in two chunks. */
export const RELEASE_BYTES = Buffer.alloc(128 * 1024, 'harvester iso ');

/**
 * A signed release of one file in `dir` (what placeReleases reads of a checked artifact), and a
 * Source that streams `chunks` for its blob (default: the file in two halves); `pulled` counts the
 * bytes the source handed out.
 */
export function releaseFixture(dir: string, chunks: readonly Buffer[] = [RELEASE_BYTES.subarray(0, 65536), RELEASE_BYTES.subarray(65536)]) {
  const sha = sha256(RELEASE_BYTES);
  const fetched = {
    digest: `sha256:${'0'.repeat(64)}`,
    provenance: {
      releases: [{ version: 'v1.6.0', arch: 'amd64', dir, files: [{ name: 'harvester.iso', sha256: sha, size: RELEASE_BYTES.length }] }],
    },
    releases: new Map([['v1.6.0-amd64', [{ name: 'harvester.iso', digest: `sha256:${sha}`, size: RELEASE_BYTES.length }]]]),
    files: 0,
  } as unknown as Fetched;
  const counter = { pulled: 0 };
  const source = {
    name: 'test',
    streamBlob: async () =>
      Readable.from(
        (function* () {
          for (const c of chunks) {
            counter.pulled += c.length;
            yield c;
          }
        })(),
      ),
  } as unknown as Source;
  return { fetched, source, counter, target: join(dir, 'harvester.iso') };
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'release') {
    const f = releaseFixture(argv[1]!);
    mkdirSync(join(argv[1]!, '..', 'state'), { recursive: true });
    await placeReleases(f.source, f.fetched, join(argv[1]!, '..', 'state'));
    return;
  }
  const [cmd, stateDir, root, site, ...rest] = argv;
  const store = new VersionStore({ stateDir: stateDir!, root: root!, site: site! });
  if (cmd === 'pull') {
    await pullSeed(store, rest[0]!, Number(rest[1]));
  } else if (cmd === 'flip') {
    const [a, b, n, done] = rest as [string, string, string, string];
    const hooks = { check: () => undefined, reload: () => undefined };
    for (let i = 0; i < Number(n); i++) await store.switchTo(hexOf(i % 2 ? a : b), {}, hooks);
    writeFileSync(done, 'done\n');
  } else throw new Error(`unknown command ${cmd}`);
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
