// Release files on the boot server (`harvgen pull`): each file the signed provenance names is put
// into its release directory (the nginx.artifacts_dir the site's nginx serves) when it is missing
// or different, streamed from the registry, no more than the size the provenance gives, its SHA-256
// checked as it is written into a temporary name beside the target (the durable layer's
// `.<name>.harvgen-tmp-<pid>-<hex>`, which the next pull removes when a kill left it), then
// fsync'd and renamed over it. A file already there is trusted only
// when its size and modification time are what the last check recorded (releases.json in the state
// directory), so gigabytes are not hashed again on every pull.
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
import { pausePoint } from './pause.ts';

type Known = Record<string, { size: number; mtimeMs: number; sha256: string }>;

function readKnown(file: string): Known {
  try {
    const k = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return k && typeof k === 'object' ? (k as Known) : {};
  } catch {
    return {};
  }
}

/** Put every release file in place; returns how many were written. */
export async function placeReleases(source: Source, fetched: Fetched, stateDir: string): Promise<number> {
  const p: Provenance = fetched.provenance;
  const knownFile = join(stateDir, 'releases.json');
  const known = readKnown(knownFile);
  let written = 0;
  for (const r of p.releases) {
    const layers = fetched.releases.get(`${r.version}-${r.arch}`);
    if (!layers) throw new PullRefused(`the provenance names release ${r.version} (${r.arch}), which the artifact does not carry`);
    if (!r.dir.startsWith('/') || r.dir.split('/').includes('..'))
      throw new PullRefused(`release directory ${r.dir} is not a plain absolute path`);
    mkdirSync(r.dir, { recursive: true });
    removeStaleTemps(r.dir);
    for (const f of r.files) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(f.name))
        throw new PullRefused(`release file name ${JSON.stringify(f.name)} is not a plain name`);
      const layer = layers.find((l) => l.name === f.name);
      if (!layer || layer.digest !== `sha256:${f.sha256}` || layer.size !== f.size)
        throw new PullRefused(`release file ${f.name} is not what the signed provenance says`);
      const target = join(r.dir, f.name);
      const st = statSync(target, { throwIfNoEntry: false });
      const k = known[target];
      if (st && k && st.size === k.size && st.mtimeMs === k.mtimeMs && k.sha256 === f.sha256) continue;
      if (st && st.size === f.size && (await hashFile(target, 'sha256')).sha256 === f.sha256) {
        known[target] = { size: st.size, mtimeMs: st.mtimeMs, sha256: f.sha256 };
        continue;
      }
      await download(source, layer.digest, f, target);
      const now = statSync(target);
      known[target] = { size: now.size, mtimeMs: now.mtimeMs, sha256: f.sha256 };
      written++;
    }
  }
  writeFileAtomic(knownFile, `${JSON.stringify(known, null, 2)}\n`);
  return written;
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
