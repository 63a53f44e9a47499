/**
 * Building the test oracles of test/oracle/ (Go programs that run other projects' own code: the
 * upgrade guard of Harvester's installer, Flux's OCI library) with the machine's Go: the module
 * and build caches under .tmp (kept between runs), no newer toolchain, go.sum as committed.
 */
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

/** How an oracle is built beyond the defaults: build tags, and cgo off (no C compiler or C library needed). */
export interface OracleBuild {
  readonly tags?: readonly string[];
  readonly noCgo?: boolean;
}

/** `go build` the oracle `test/oracle/<name>` (with `modfile`, one of its other go.mod files) into `out`; throws with Go's output. */
export async function buildOracle(name: string, out: string, modfile = 'go.mod', build: OracleBuild = {}): Promise<string> {
  const tags = build.tags && build.tags.length > 0 ? [`-tags=${build.tags.join(',')}`] : [];
  const built = await run(['go', 'build', `-modfile=${modfile}`, ...tags, '-o', out, '.'], {
    cwd: path.join(REPO_ROOT, 'test/oracle', name),
    env: build.noCgo ? { ...GO_ENV, CGO_ENABLED: '0' } : GO_ENV,
    timeoutMs: 600_000,
  });
  if (built.code !== 0) throw new Error(`building test/oracle/${name} (${modfile}) failed:\n${describe(built)}`);
  return out;
}
