/**
 * OCI image layout directories (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), as
 * `skopeo copy ... oci:<dir>:<ref>` writes and reads them, and a deterministic tar archive of one
 * (`oci-archive:<file>:<ref>`): entries sorted by path, mtime 0, uid/gid 0, no user names, modes
 * 0644 and 0755, so the same layout gives the same bytes (the header codec: `tar.ts`). Every file
 * is written whole or not at all, through the durable layer's temporaries (no temp is left behind
 * by a failure; one a kill left is `removeStaleTemps`' to remove).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { atomicTempPath, fsyncDir, writeFileAtomicAsync } from '../durable/index.ts';
import { checkDescriptor, INDEX_MEDIA_TYPE, LayoutError, REF_NAME, type Descriptor } from './descriptor.ts';
import { digestHex, sha256Digest, TAG_RE } from './ref.ts';
import { BLOCK, checkChecksum, cstr, parsePax, readSize, roundUp, tarHeader } from './tar.ts';

export { checkDescriptor, INDEX_MEDIA_TYPE, LayoutError, MANIFEST_MEDIA_TYPE, REF_NAME, type Descriptor } from './descriptor.ts';

/** Names allowed in a layout's `ref.name` (a tag, or the wider OCI form with `/`, `:`, `@`). */
const REF_NAME_RE = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

/** An OCI image layout directory: blobs by digest and named references in index.json. */
export class OciLayout {
  private constructor(readonly dir: string) {}

  /** Create (or open) a layout directory, writing `oci-layout` and an empty index when missing. */
  static async create(dir: string): Promise<OciLayout> {
    await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    const layout = new OciLayout(dir);
    try {
      await stat(path.join(dir, 'oci-layout'));
    } catch {
      await writeFileAtomicAsync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    }
    try {
      await stat(path.join(dir, 'index.json'));
    } catch {
      await layout.writeIndex([]);
    }
    return layout;
  }

  /** Open an existing layout (checks `oci-layout`). */
  static async open(dir: string): Promise<OciLayout> {
    let text: string;
    try {
      text = await readFile(path.join(dir, 'oci-layout'), 'utf8');
    } catch {
      throw new LayoutError(`${dir} is not an OCI image layout (no oci-layout file)`);
    }
    let version: unknown;
    try {
      version = (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    } catch {
      throw new LayoutError(`${dir}/oci-layout is not JSON`);
    }
    if (version !== '1.0.0') throw new LayoutError(`${dir}/oci-layout: imageLayoutVersion ${JSON.stringify(version)} is not 1.0.0`);
    return new OciLayout(dir);
  }

  /** Path of a blob's file. */
  blobPath(digest: string): string {
    return path.join(this.dir, 'blobs', 'sha256', digestHex(digest));
  }

  async hasBlob(digest: string): Promise<boolean> {
    try {
      return (await stat(this.blobPath(digest))).isFile();
    } catch {
      return false;
    }
  }

  /**
   * Store bytes as a blob; returns the digest. Not flushed one by one (a publish writes thousands;
   * flushing doubled the time): a blob a power cut left short no longer hashes to its name, and
   * every reader checks that.
   */
  async writeBlob(bytes: Uint8Array): Promise<string> {
    const digest = sha256Digest(bytes);
    if (!(await this.hasBlob(digest))) await writeFileAtomicAsync(this.blobPath(digest), bytes, { durable: false });
    return digest;
  }

  /** Store a stream as the blob `digest`, refusing bytes that do not hash to it. */
  async writeBlobStream(digest: string, source: Readable, size?: number): Promise<void> {
    await writeStreamAtomic(this.blobPath(digest), async (fh) => {
      const hash = createHash('sha256');
      let n = 0;
      for await (const c of source) {
        hash.update(c as Buffer);
        n += (c as Buffer).length;
        await fh.write(c as Buffer);
      }
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== digest || (size !== undefined && n !== size))
        throw new LayoutError(`blob ${digest}: the bytes hash to ${got} (${n} bytes); refused`);
    });
  }

  /** Read a blob, checking its digest (and `maxBytes`). */
  async readBlob(digest: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
    const file = this.blobPath(digest);
    let st;
    try {
      st = await stat(file);
    } catch {
      throw new LayoutError(`${this.dir} has no blob ${digest}`);
    }
    if (options.maxBytes !== undefined && st.size > options.maxBytes)
      throw new LayoutError(`blob ${digest} is ${st.size} bytes, more than the ${options.maxBytes} allowed`);
    const bytes = await readFile(file);
    if (sha256Digest(bytes) !== digest) throw new LayoutError(`blob ${digest} of ${this.dir} does not hash to its name; refused`);
    return bytes;
  }

  /** A blob as a stream (the digest is checked by whoever consumes it: copy checks it). */
  openBlob(digest: string): Readable {
    return createReadStream(this.blobPath(digest));
  }

  /** The descriptors of index.json. */
  async index(): Promise<Descriptor[]> {
    let text: string;
    try {
      text = await readFile(path.join(this.dir, 'index.json'), 'utf8');
    } catch {
      throw new LayoutError(`${this.dir} has no index.json`);
    }
    let doc: { schemaVersion?: unknown; manifests?: unknown };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      throw new LayoutError(`${this.dir}/index.json is not JSON`);
    }
    if (doc.schemaVersion !== 2 || !Array.isArray(doc.manifests))
      throw new LayoutError(`${this.dir}/index.json is not an OCI index (schemaVersion 2, manifests)`);
    return doc.manifests.map((d, i) => checkDescriptor(d, `${this.dir}/index.json manifests[${i}]`));
  }

  /** The descriptor named `ref` (annotation `org.opencontainers.image.ref.name`). */
  async resolve(ref: string): Promise<Descriptor> {
    const all = (await this.index()).filter((d) => d.annotations?.[REF_NAME] === ref);
    if (all.length === 0) throw new LayoutError(`${this.dir} has no reference "${ref}"`);
    if (all.length > 1) throw new LayoutError(`${this.dir} has ${all.length} entries named "${ref}"`);
    return all[0]!;
  }

  /** Name `descriptor` as `ref` in index.json (replacing an entry of that name). */
  async setRef(ref: string, descriptor: Descriptor): Promise<void> {
    await this.setRefs([{ ref, descriptor }]);
  }

  /** Name several descriptors at once (index.json read and written once), each replacing what its name named. */
  async setRefs(entries: readonly { readonly ref: string; readonly descriptor: Descriptor }[]): Promise<void> {
    for (const { ref } of entries)
      if (!REF_NAME_RE.test(ref) && !TAG_RE.test(ref)) throw new LayoutError(`"${ref}" is not a valid reference name for an OCI layout`);
    const names = new Set(entries.map((e) => e.ref));
    const kept = (await this.index()).filter((d) => !names.has(d.annotations?.[REF_NAME] ?? ''));
    const added = entries.map(({ ref, descriptor }) => ({
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
      ...(descriptor.artifactType ? { artifactType: descriptor.artifactType } : {}),
      annotations: { ...(descriptor.annotations ?? {}), [REF_NAME]: ref },
    }));
    await this.writeIndex([...kept, ...added]);
  }

  private async writeIndex(manifests: readonly Descriptor[]): Promise<void> {
    const sorted = [...manifests].sort(
      (a, b) => cmp(a.annotations?.[REF_NAME] ?? '', b.annotations?.[REF_NAME] ?? '') || cmp(a.digest, b.digest),
    );
    const doc = { schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: sorted };
    await writeFileAtomicAsync(path.join(this.dir, 'index.json'), JSON.stringify(doc));
  }

  /** The digests of every blob file present. */
  async blobDigests(): Promise<string[]> {
    const names = await readdir(path.join(this.dir, 'blobs', 'sha256'));
    return names
      .filter((n) => /^[a-f0-9]{64}$/.test(n))
      .sort()
      .map((n) => `sha256:${n}`);
  }
}

// --- the archive ------------------------------------------------------------------------------

/**
 * Write the layout at `dir` as a deterministic tar file at `file` (written beside, then renamed).
 * Entries: `blobs/`, `blobs/sha256/`, every blob, `index.json`, `oci-layout`, sorted by path.
 */
export async function writeArchive(dir: string, file: string): Promise<{ bytes: number; entries: number }> {
  const layout = await OciLayout.open(dir);
  await layout.index();
  const blobs = await layout.blobDigests();
  const entries: { name: string; file?: string; size: number }[] = [
    { name: 'blobs/', size: 0 },
    { name: 'blobs/sha256/', size: 0 },
    ...(await Promise.all(
      blobs.map(async (d) => {
        const f = layout.blobPath(d);
        return { name: `blobs/sha256/${digestHex(d)}`, file: f, size: (await stat(f)).size };
      }),
    )),
    { name: 'index.json', file: path.join(dir, 'index.json'), size: (await stat(path.join(dir, 'index.json'))).size },
    { name: 'oci-layout', file: path.join(dir, 'oci-layout'), size: (await stat(path.join(dir, 'oci-layout'))).size },
  ].sort((a, b) => cmp(a.name, b.name));
  let bytes = 0;
  await writeStreamAtomic(file, async (fh) => {
    for (const e of entries) {
      const isDir = e.file === undefined;
      await fh.write(tarHeader(e.name, isDir ? 0 : e.size, isDir ? 0o755 : 0o644, isDir ? '5' : '0'));
      bytes += BLOCK;
      if (!isDir) {
        const copied = await copyInto(fh, e.file!, e.size);
        bytes += copied;
        const pad = (BLOCK - (copied % BLOCK)) % BLOCK;
        if (pad) await fh.write(Buffer.alloc(pad));
        bytes += pad;
      }
    }
    await fh.write(Buffer.alloc(BLOCK * 2));
    bytes += BLOCK * 2;
  });
  return { bytes, entries: entries.length };
}

async function copyInto(fh: FileHandle, file: string, size: number): Promise<number> {
  let n = 0;
  for await (const c of createReadStream(file)) {
    n += (c as Buffer).length;
    await fh.write(c as Buffer);
  }
  if (n !== size) throw new LayoutError(`${file} changed size while being archived`);
  return n;
}

/** Limits of readArchive. */
export interface ReadArchiveOptions {
  /** Largest total of file bytes extracted (default 64 GiB). */
  readonly maxBytes?: number;
  /** Most entries (default 1,000,000). */
  readonly maxEntries?: number;
}

/**
 * Extract an OCI layout archive (ours, or one skopeo wrote) into `dir` (absent or empty; removed
 * again when the archive is refused), accepting only `oci-layout`, `index.json`, the `blobs/` directories and
 * `blobs/sha256/<hex>` files (anything else, links included, is refused) and checking each
 * blob's digest. Returns the opened layout.
 */
export async function readArchive(file: string, dir: string, options: ReadArchiveOptions = {}): Promise<OciLayout> {
  const maxBytes = options.maxBytes ?? 64 * 1024 ** 3;
  const maxEntries = options.maxEntries ?? 1_000_000;
  let existing: string[] = [];
  try {
    existing = await readdir(dir);
  } catch {
    /* absent: created below */
  }
  if (existing.length > 0) throw new LayoutError(`${dir} is not empty: an archive is read into an empty directory`);
  try {
    await extract(file, dir, maxBytes, maxEntries);
  } catch (err) {
    // Nothing of a refused archive is kept.
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const layout = await OciLayout.open(dir);
  await layout.index();
  return layout;
}

async function extract(file: string, dir: string, maxBytes: number, maxEntries: number): Promise<void> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    let pos = 0;
    let total = 0;
    let entries = 0;
    let paxPath: string | undefined;
    let paxSize: number | undefined;
    const readAt = async (n: number): Promise<Buffer> => {
      const b = Buffer.alloc(n);
      const { bytesRead } = await fh.read(b, 0, n, pos);
      if (bytesRead !== n) throw new LayoutError(`${file}: the archive is cut short at byte ${pos}`);
      pos += n;
      return b;
    };
    for (;;) {
      if (pos + BLOCK > size) throw new LayoutError(`${file}: the archive is cut short (it ends without its end blocks)`);
      const h = await readAt(BLOCK);
      if (h.every((b) => b === 0)) break;
      if (++entries > maxEntries) throw new LayoutError(`${file}: more than ${maxEntries} entries`);
      checkChecksum(h, file);
      const type = String.fromCharCode(h[156]!) || '0';
      let name = cstr(h, 0, 100);
      const prefix = h.toString('binary', 257, 262) === 'ustar' ? cstr(h, 345, 155) : '';
      if (prefix) name = `${prefix}/${name}`;
      let entrySize = readSize(h, file);
      if (type === 'x' || type === 'g') {
        if (entrySize > 1024 * 1024) throw new LayoutError(`${file}: a PAX header of ${entrySize} bytes`);
        const data = await readAt(roundUp(entrySize));
        if (type === 'x') ({ path: paxPath, size: paxSize } = parsePax(data.subarray(0, entrySize), file));
        continue;
      }
      if (paxPath !== undefined) name = paxPath;
      if (paxSize !== undefined) entrySize = paxSize;
      paxPath = undefined;
      paxSize = undefined;
      const clean = name.replace(/^\.\//, '');
      if (type === '5') {
        if (!['blobs/', 'blobs/sha256/', 'blobs', 'blobs/sha256', './', '.'].includes(clean) && clean !== '')
          throw new LayoutError(`${file}: unexpected directory "${name}" in an OCI layout archive`);
        continue;
      }
      if (type !== '0' && type !== '\0')
        throw new LayoutError(`${file}: entry "${name}" is not a regular file (type ${JSON.stringify(type)}); refused`);
      const blob = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(clean);
      if (!blob && clean !== 'index.json' && clean !== 'oci-layout')
        throw new LayoutError(`${file}: unexpected entry "${name}" in an OCI layout archive`);
      total += entrySize;
      if (total > maxBytes) throw new LayoutError(`${file}: more than ${maxBytes} bytes of content`);
      if (pos + entrySize > size) throw new LayoutError(`${file}: entry "${name}" is cut short`);
      const target = path.join(dir, ...clean.split('/'));
      await writeStreamAtomic(target, async (out) => {
        const hash = createHash('sha256');
        let left = entrySize;
        const buf = Buffer.alloc(1024 * 1024);
        while (left > 0) {
          const n = Math.min(left, buf.length);
          const { bytesRead } = await fh.read(buf, 0, n, pos);
          if (bytesRead !== n) throw new LayoutError(`${file}: entry "${name}" is cut short`);
          pos += n;
          left -= n;
          hash.update(buf.subarray(0, n));
          await out.write(buf.subarray(0, n));
        }
        pos += roundUp(entrySize) - entrySize;
        if (blob && hash.digest('hex') !== blob[1]) throw new LayoutError(`${file}: blob ${blob[1]} does not hash to its name; refused`);
      });
    }
  } finally {
    await fh.close();
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Write `target` whole or not at all from what `fill` writes into a fresh temporary of the durable
 * layer beside it (flushed, renamed over the target, the directory flushed); a `fill` that throws
 * (bytes that do not hash to their name) leaves no temp behind. For files streamed in, which the
 * layer's `writeFileAtomicAsync` would have to hold in memory whole.
 */
async function writeStreamAtomic(target: string, fill: (fh: FileHandle) => Promise<void>): Promise<void> {
  const tmp = atomicTempPath(target);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fill(fh);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(target));
}
