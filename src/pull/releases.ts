// Release files on the boot server (`harvgen pull`): each file the signed provenance names is put
// into its release directory (the nginx.artifacts_dir the site's nginx serves) when it is missing
// or different, streamed from the registry, no more than the size the provenance gives, its SHA-256
// checked as it is written into a temporary name beside the target (the durable layer's
// `.<name>.harvgen-tmp-<pid>-<hex>`, which the next pull removes when a kill left it), then
// fsync'd and renamed over it. A file already there is trusted only
// when its size and modification time are what the last check recorded (releases.json in the state
// directory), so gigabytes are not hashed again on every pull. Each kept version's release files
// are recorded beside it (`releases/<hex>.json` in the state directory), so that a rollback, or a
// switch back to a version still kept, puts back what is missing, and pull's verdict checks them.
import { createHash } from 'node:crypto';
import { closeSync, constants, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { Source } from '../publish/sink.ts';
import { hashFile } from '../util/hash-file.ts';
import type { Provenance } from '../publish/provenance.ts';
import { atomicTempPath, fsyncDir, removeStaleTemps, writeFileAtomic } from '../durable/index.ts';
import { PullRefused, type Fetched } from './fetch.ts';
import { checkProvenance } from '../publish/sign.ts';
import { pausePoint } from './pause.ts';
import { PullTimedOut } from './deadline.ts';
import { VERIFIED_SUFFIX, verifiedText } from '../derive/failover.ts';

type Known = Record<string, { size: number; mtimeMs: number; sha256: string }>;

/** One release file as a signed provenance gives it, and the path it is served from. */
export interface ReleaseFile {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

/** The record of a kept version's release files: `<stateDir>/releases/<hex>.json`. */
const RECORDS = 'releases';

function readKnown(file: string): Known {
  try {
    const k = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return k && typeof k === 'object' ? (k as Known) : {};
  } catch {
    return {};
  }
}

/** The files a provenance's releases name, each at `<dir>/<name>`; a directory or a name that is not plain is refused. */
export function releaseFiles(releases: Provenance['releases']): ReleaseFile[] {
  const out: ReleaseFile[] = [];
  for (const r of releases) {
    if (!r.dir.startsWith('/') || r.dir.split('/').includes('..'))
      throw new PullRefused(`release directory ${r.dir} is not a plain absolute path`);
    for (const f of r.files) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(f.name))
        throw new PullRefused(`release file name ${JSON.stringify(f.name)} is not a plain name`);
      out.push({ path: join(r.dir, f.name), sha256: f.sha256, size: f.size });
    }
  }
  return out;
}

/** Put every release file of a checked artifact in place; returns how many were written. */
export async function placeReleases(source: Source, fetched: Fetched, stateDir: string): Promise<number> {
  const p: Provenance = fetched.provenance;
  for (const r of p.releases) {
    const layers = fetched.releases.get(`${r.version}-${r.arch}`);
    if (!layers) throw new PullRefused(`the provenance names release ${r.version} (${r.arch}), which the artifact does not carry`);
    for (const f of r.files) {
      const layer = layers.find((l) => l.name === f.name);
      if (!layer || layer.digest !== `sha256:${f.sha256}` || layer.size !== f.size)
        throw new PullRefused(`release file ${f.name} is not what the signed provenance says`);
    }
  }
  const written = await restoreReleases(source, releaseFiles(p.releases), stateDir);
  // Each release's files are in place and checked: recorded as fetch.sh records them, for the
  // keepalived check of a failover pair (src/derive/failover.ts, VERIFIED_SUFFIX).
  for (const r of p.releases) {
    const list = r.files.find((f) => f.name.endsWith('.sha512'))?.name;
    if (list !== undefined) writeFileAtomic(join(r.dir, `${list}${VERIFIED_SUFFIX}`), verifiedText(r.files, list));
  }
  return written;
}

/**
 * Put back each of `files` that is not in place (missing, another size, other bytes), from the
 * source's blob of its SHA-256 (a release layer is the file itself); returns how many were written.
 */
export async function restoreReleases(source: Source, files: readonly ReleaseFile[], stateDir: string): Promise<number> {
  const knownFile = join(stateDir, 'releases.json');
  const known = readKnown(knownFile);
  let written = 0;
  const cleaned = new Set<string>();
  try {
    for (const f of files) {
      const dir = dirname(f.path);
      if (!cleaned.has(dir)) {
        mkdirSync(dir, { recursive: true });
        removeStaleTemps(dir);
        cleaned.add(dir);
      }
      if ((await releaseProblem(f, known)) === undefined) continue;
      await download(source, `sha256:${f.sha256}`, f, f.path);
      const now = statSync(f.path);
      known[f.path] = { size: now.size, mtimeMs: now.mtimeMs, sha256: f.sha256 };
      written++;
    }
  } finally {
    writeFileAtomic(knownFile, `${JSON.stringify(known, null, 2)}\n`);
  }
  return written;
}

/**
 * What is wrong with a release file in place, in words, or undefined when it is the file the
 * provenance gives. A file is hashed only when its size and modification time are not what the
 * last check recorded in `known` (which this updates).
 */
async function releaseProblem(f: ReleaseFile, known: Known): Promise<string | undefined> {
  // A link to the file is taken as the file, as before the records (an operator's shared mirror).
  const st = statSync(f.path, { throwIfNoEntry: false });
  if (st === undefined) return 'missing';
  if (!st.isFile()) return 'not a regular file';
  if (st.size !== f.size) return `${st.size} bytes, the signed provenance gives ${f.size}`;
  const k = known[f.path];
  if (k && st.size === k.size && st.mtimeMs === k.mtimeMs && k.sha256 === f.sha256) return undefined;
  if ((await hashFile(f.path, 'sha256')).sha256 !== f.sha256) return `its SHA-256 is not ${f.sha256}`;
  known[f.path] = { size: st.size, mtimeMs: st.mtimeMs, sha256: f.sha256 };
  return undefined;
}

/** The problems of a kept version's release files (its record), each `<path>: <what is wrong>`; none when it has no record. */
export async function releaseProblems(
  stateDir: string,
  hex: string,
  site: string,
  publicKey: string,
): Promise<{ checked: number; problems: string[]; recorded: boolean; files: readonly ReleaseFile[] }> {
  const recorded = recordedReleases(stateDir, hex, site, publicKey);
  const files = recorded ?? [];
  const knownFile = join(stateDir, 'releases.json');
  const known = readKnown(knownFile);
  const problems: string[] = [];
  for (const f of files) {
    const p = await releaseProblem(f, known);
    if (p !== undefined) problems.push(`${f.path}: ${p}`);
  }
  if (files.length > 0) writeFileAtomic(knownFile, `${JSON.stringify(known, null, 2)}\n`);
  return { checked: files.length, problems, recorded: recorded !== undefined, files };
}

const recordFile = (stateDir: string, hex: string) => join(stateDir, RECORDS, `${hex}.json`);

/** A version's signed provenance, as its artifact carries it: the bytes and their SSHSIG signature. */
export interface SignedProvenance {
  readonly bytes: Buffer;
  readonly signature: string;
}

/**
 * Record a version's signed provenance beside it (before it is committed: a kept version always has
 * its record). Its release files are read back from it, its signature checked again each time:
 * nothing but the signed provenance decides where pull writes.
 */
export function recordReleases(stateDir: string, hex: string, signed: SignedProvenance): void {
  mkdirSync(join(stateDir, RECORDS), { recursive: true, mode: 0o755 });
  const record = { format: 2, provenance: signed.bytes.toString('base64'), signature: signed.signature };
  writeFileAtomic(recordFile(stateDir, hex), `${JSON.stringify(record, null, 2)}\n`);
}

/**
 * A kept version's release files, from its signed provenance recorded when it was pulled, the
 * signature checked with the site's public key; undefined when there is no record (a version
 * pulled by a harvgen before the records, or one of their earlier form). A record whose signature
 * does not verify, or that is not one, is refused.
 */
export function recordedReleases(stateDir: string, hex: string, site: string, publicKey: string): ReleaseFile[] | undefined {
  const file = recordFile(stateDir, hex);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: { format?: unknown; provenance?: unknown; signature?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new PullRefused(`${file} is not JSON: move it aside and pull the version again by its digest`);
  }
  if (parsed.format !== 2) return undefined;
  if (typeof parsed.provenance !== 'string' || typeof parsed.signature !== 'string' || parsed.signature.length > 64 * 1024)
    throw new PullRefused(`${file} is not a record of a signed provenance: move it aside and pull the version again by its digest`);
  const bytes = Buffer.from(parsed.provenance, 'base64');
  const bad = checkProvenance(publicKey, bytes, parsed.signature);
  if (bad !== undefined) throw new PullRefused(`${file}: the provenance's signature does not verify with the site's public key (${bad})`);
  let provenance: Provenance;
  try {
    provenance = JSON.parse(bytes.toString('utf8')) as Provenance;
  } catch {
    throw new PullRefused(`${file}: the signed provenance is not JSON`);
  }
  if (provenance.site !== site || !Array.isArray(provenance.releases))
    throw new PullRefused(`${file}: the signed provenance is not this site's`);
  return releaseFiles(provenance.releases);
}

/** Remove the records of versions no longer kept. */
export function forgetReleases(stateDir: string, hexes: readonly string[]): void {
  for (const hex of hexes) rmSync(recordFile(stateDir, hex), { force: true });
}

/** Stream one release file into a temp beside `target`: at most `f.size` bytes, then its SHA-256, then renamed. */
async function download(source: Source, digest: string, f: { sha256: string; size: number }, target: string): Promise<void> {
  const tmp = atomicTempPath(target);
  const h = createHash('sha256');
  let seen = 0;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      seen += chunk.length;
      if (seen > f.size)
        return cb(new PullRefused(`release file ${target}: the registry sent more than the ${f.size} bytes the signed provenance gives`));
      h.update(chunk);
      writeSync(fd, chunk);
      if (seen < f.size) pausePoint('mid-release-download');
      cb();
    },
  });
  try {
    try {
      await pipeline(await source.streamBlob(digest), sink);
      if (seen !== f.size)
        throw new PullRefused(`release file ${target}: the registry sent ${seen} bytes, the signed provenance gives ${f.size}`);
      if (h.digest('hex') !== f.sha256)
        throw new PullRefused(`release file ${target}: the registry sent bytes whose SHA-256 is not ${f.sha256}`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
    fsyncDir(dirname(target));
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Put back release files from the source (made only now: a rollback needs the registry only then); a failure is said, not thrown. */
export async function restoreFrom(
  source: () => Source,
  files: readonly ReleaseFile[],
  stateDir: string,
  step: (s: string) => void,
): Promise<{ releasesWritten?: number; releasesFailed?: string }> {
  step('putting back release files');
  try {
    return { releasesWritten: await restoreReleases(source(), files, stateDir) };
  } catch (e) {
    if (e instanceof PullTimedOut) throw e;
    return { releasesFailed: (e as Error).message };
  }
}
