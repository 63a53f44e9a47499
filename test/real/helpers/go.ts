/**
 * Building the test oracles of test/oracle/ (Go programs that run other projects' own code: the
 * upgrade guard of Harvester's installer, Flux's OCI library) with the machine's Go: the module
 * and build caches under .tmp (kept between runs), no newer toolchain, go.sum as committed.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './initramfs.ts';
import { describe, run } from './proc.ts';

/** Go's environment for the oracles. */
export const GO_ENV = {
  ...process.env,
  GOMODCACHE: path.join(REPO_ROOT, '.tmp/real/gomod'),
  GOCACHE: path.join(REPO_ROOT, '.tmp/real/gocache'),
  GOTOOLCHAIN: 'local',
  GOFLAGS: '-mod=readonly',
};

/**
 * How the oracle `name` is built beyond the defaults: its `build.env` (lines `CGO_ENABLED=0`,
 * `GOFLAGS=<more flags>`; `#` comments), which scripts/warm-oracles.sh reads too, so that a test
 * finds the build it warmed in the cache.
 */
export function oracleEnv(name: string): NodeJS.ProcessEnv {
  const file = path.join(REPO_ROOT, 'test/oracle', name, 'build.env');
  const env: NodeJS.ProcessEnv = { ...GO_ENV };
  if (!existsSync(file)) return env;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(CGO_ENABLED|GOFLAGS)=(.*)$/.exec(line.trim());
    if (!m) continue;
    env[m[1]!] = m[1] === 'GOFLAGS' ? `${GO_ENV.GOFLAGS} ${m[2]}` : m[2];
  }
  return env;
}

/**
 * The lock scripts/warm-oracles.sh holds while it compiles into the caches (.ci/run starts it beside
 * the tests): a build waits for it to end (a shared lock), so that it links what was compiled
 * instead of compiling the same packages a second time.
 */
export const WARM_LOCK = path.join(REPO_ROOT, '.tmp/real/warm-oracles.lock');

/** `go build` the oracle `test/oracle/<name>` (with `modfile`, one of its other go.mod files) into `out`; throws with Go's output. */
export async function buildOracle(name: string, out: string, modfile = 'go.mod'): Promise<string> {
  mkdirSync(path.dirname(WARM_LOCK), { recursive: true });
  const built = await run(['flock', '-s', WARM_LOCK, 'go', 'build', `-modfile=${modfile}`, '-o', out, '.'], {
    cwd: path.join(REPO_ROOT, 'test/oracle', name),
    env: oracleEnv(name),
    timeoutMs: 600_000,
  });
  if (built.code !== 0) throw new Error(`building test/oracle/${name} (${modfile}) failed:\n${describe(built)}`);
  return out;
}
