// An output file in memory. Rendering produces these; only emit writes them to disk.
import { createHash, hash, type Hash } from 'node:crypto';
import { eachUtf8Chunk, eachUtf8ChunkOf } from '../util/utf8-chunks.ts';
import { readBounded } from '../util/read-bounded.ts';
import type { Spill, SpillPlace } from './spill.ts';
export { isSafeRelativePath } from '../util/paths.ts';

/** One generated file. `path` is relative to the site's output directory, with `/`. */
export interface Artifact {
  readonly path: string;
  /** Text (written as UTF-8), or bytes for binaries copied into the tree (iPXE). */
  readonly contents: string | Uint8Array;
  /** File mode: 0o755 for scripts, 0o644 otherwise. */
  readonly mode: number;
  /** URL under boot.server when nginx serves the file. */
  readonly url?: string;
}

/** The bytes of an artifact's contents. */
export function contentBytes(contents: string | Uint8Array): Uint8Array {
  return typeof contents === 'string' ? Buffer.from(contents, 'utf8') : contents;
}

/** True when `onDisk` holds exactly `contents`. */
export function sameContents(onDisk: Uint8Array, contents: string | Uint8Array): boolean {
  return Buffer.from(onDisk.buffer, onDisk.byteOffset, onDisk.byteLength).equals(contentBytes(contents));
}

/**
 * SHA-256 (hex) of an artifact's contents as written to disk (a string as UTF-8). The one-shot
 * `crypto.hash` is about twice as fast as a Hash object per file, and a tree hashes every file.
 * A text is encoded through one reused buffer (src/util/utf8-chunks.ts), never handed to `hash`
 * as a string, which costs 3-4 times as much.
 */
export function sha256Hex(contents: string | Uint8Array): string {
  if (typeof contents !== 'string') return hash('sha256', contents, 'hex');
  let whole: string | undefined;
  let h: Hash | undefined;
  eachUtf8Chunk(contents, (bytes, last) => {
    if (last && h === undefined) whole = hash('sha256', bytes, 'hex');
    else (h ??= createHash('sha256')).update(bytes);
  });
  return whole ?? h!.digest('hex');
}

/** SHA-256 (hex) of the concatenation of `parts` as UTF-8, never joined into one string. */
export function partsSha256Hex(parts: readonly string[]): string {
  const h = createHash('sha256');
  eachUtf8ChunkOf(parts, (bytes) => h.update(bytes));
  return h.digest('hex');
}

const PARTS = Symbol.for('harvgen.TextParts');

/**
 * A large text kept as its parts in order (manifest.json, about 16 MB for a 10,000-node site):
 * hashed, measured and written part by part (src/util/utf8-chunks.ts, eachUtf8ChunkOf), so that
 * no string of megabytes is built, flattened and collected at every build and watch rebuild.
 * `contents` joins them for whoever asks (a library caller, signing, a diff).
 */
export class TextParts implements Artifact {
  declare readonly contents: string;
  get [PARTS](): true {
    return true;
  }
  #size: number | undefined;
  constructor(
    readonly path: string,
    readonly parts: readonly string[],
    readonly mode: number,
  ) {
    // An own, enumerable accessor, as OnDiskArtifact's: a spread or a structured clone gets the text.
    let text: string | undefined;
    Object.defineProperty(this, 'contents', { enumerable: true, get: () => (text ??= this.parts.join('')) });
  }
  /** Bytes as UTF-8. */
  get size(): number {
    if (this.#size === undefined) {
      let n = 0;
      for (const p of this.parts) n += Buffer.byteLength(p, 'utf8');
      this.#size = n;
    }
    return this.#size;
  }
}

/** Whether `a` is a text kept as parts (a TextParts, whichever load of this module made it). */
export function isParts(a: Artifact): a is TextParts {
  return (a as Partial<Record<typeof PARTS, boolean>>)[PARTS] === true;
}

/**
 * Whether two texts kept as parts (TextParts) hold the same bytes, when their parts tell without
 * hashing either: as many parts, each pair the same string, up to a first pair that is not: of as
 * many UTF-8 bytes and the same bytes, the search goes on; of as many bytes but other ones, they
 * differ (every pair before it sits at the same offset of both files, so that one does too).
 * Undefined when they do not tell (or either is no TextParts): a watch rebuild of a 10,000-node
 * site otherwise hashes the 16 MB of manifest.json once more to learn that one node's entry changed.
 */
export function sameParts(a: Artifact, b: Artifact): boolean | undefined {
  if (!isParts(a) || !isParts(b) || a.parts.length !== b.parts.length) return undefined;
  for (let i = 0; i < a.parts.length; i++) {
    const p = a.parts[i]!;
    const q = b.parts[i]!;
    if (p === q) continue;
    const bp = Buffer.from(p, 'utf8');
    const bq = Buffer.from(q, 'utf8');
    if (bp.byteLength !== bq.byteLength) return undefined;
    if (!bp.equals(bq)) return false;
  }
  return true;
}

const LAZY = Symbol.for('harvgen.LazyBytes');

/**
 * A binary made again each time its contents are asked for (a node's boot ISO, about 1 MiB, of
 * which all but a few KiB are the same boot programs in every node's): its size and SHA-256 are
 * kept from the render that admitted it, so the manifest and emit's comparison never need the
 * bytes; only a write (or a library caller) makes them again. A site of 1,000 such nodes then holds
 * no 1.1 GB of images at once.
 */
export class LazyBytes implements Artifact {
  declare readonly contents: Uint8Array;
  /** The brand `isLazy` checks. */
  get [LAZY](): true {
    return true;
  }
  readonly url?: string;
  constructor(
    readonly path: string,
    readonly mode: number,
    url: string | undefined,
    readonly size: number,
    readonly sha256: string,
    make: () => Uint8Array,
    /**
     * A binary only the deploy tree holds: the committed tree lists it in manifest.json (its size
     * and SHA-256) and does not write it (git keeps no image; the deploy tree, publish and pull
     * carry the bytes).
     */
    readonly deployOnly = false,
  ) {
    if (url !== undefined) this.url = url;
    // An own, enumerable accessor: a spread or a structured clone gets the bytes.
    Object.defineProperty(this, 'contents', { enumerable: true, get: make });
  }
}

/** Whether `a` is made again on demand (a LazyBytes, whichever load of this module made it). */
export function isLazy(a: Artifact): a is LazyBytes {
  return (a as Partial<Record<typeof LAZY, boolean>>)[LAZY] === true;
}

const SPILLED = Symbol.for('harvgen.SpilledText');

/**
 * A text of a large site set aside on disk while the rest renders (src/render/spill.ts): its size
 * and SHA-256 are kept, so the manifest and emit's comparison never read it; emit writes its bytes
 * from the spill, and `contents` reads it back for whoever asks (a library caller, a diff). Across
 * threads it travels as its text (artifactsToWire). Its fields are plain and `contents` a getter of
 * the class, so that 40,000 of them hold no accessor each (an own accessor made each one a hash
 * table of its properties: 460 bytes).
 */
export class SpilledText implements Artifact {
  get [SPILLED](): true {
    return true;
  }
  readonly url: string | undefined;
  readonly #place: SpillPlace;
  constructor(
    readonly path: string,
    readonly mode: number,
    url: string | undefined,
    place: SpillPlace,
    readonly size: number,
    readonly sha256: string,
  ) {
    this.url = url;
    this.#place = place;
  }
  get contents(): string {
    const b = this.bytes();
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  }
  /** The file's bytes, read back from the spill. */
  bytes(): Uint8Array {
    return this.#place.spill.read(this.#place, this.size);
  }
  /** Let go of the spill this file is in (and every other file in it): after its site is written. */
  releaseSpill(): void {
    this.#place.spill.close();
  }
  /** Write the file's bytes to `fd` (emit) without holding them. */
  writeTo(fd: number): void {
    this.#place.spill.copyTo(this.#place, this.size, fd);
  }
  /** The staging directory this file is already written to, under its own path (a first build: src/emit/fresh.ts). */
  get stagedIn(): string | undefined {
    return this.#place.path === this.path ? this.#place.spill.stagingDir : undefined;
  }
  /** The spill it is in (emit tells it where its staging directory went). */
  get spill(): Spill {
    return this.#place.spill;
  }
}

/** Whether `a` is a text set aside on disk (a SpilledText, whichever load of this module made it). */
export function isSpilled(a: Artifact): a is SpilledText {
  return (a as Partial<Record<typeof SPILLED, boolean>>)[SPILLED] === true;
}

const ON_DISK = Symbol.for('harvgen.OnDiskArtifact');

/**
 * A file the last build wrote and this one produces again unchanged (a node reused from the
 * up-to-date record, src/cache/reuse.ts): its SHA-256 and size are known, and its contents are
 * read back from the output only when something asks for them (a library caller, or emit when
 * the file is not as recorded any more). What is read must hash to `sha256`; anything else throws
 * (the file changed during the build), so a file changed on disk never passes for the rendered one.
 */
export class OnDiskArtifact implements Artifact {
  declare readonly contents: string;
  /** The brand `isOnDisk` checks (a class check would fail across two loads of this module, as under a test loader). */
  get [ON_DISK](): true {
    return true;
  }
  readonly url?: string;
  /**
   * Set when this build found the file as the record says (a regular file of the recorded size
   * and mode, unchanged since the record settled: src/cache/reuse.ts). Emit then takes it as
   * unchanged without a second lstat; a file changed after that check is caught by the next
   * build's up-to-date check, as one changed after emit is.
   */
  checked = false;
  constructor(
    readonly path: string,
    readonly mode: number,
    url: string | undefined,
    /** The file in the output directory it is read from. */
    readonly file: string,
    readonly sha256: string,
    readonly size: number,
  ) {
    if (url !== undefined) this.url = url;
    // An own, enumerable accessor: a spread or a structured clone gets the contents, not nothing.
    let text: string | undefined;
    Object.defineProperty(this, 'contents', {
      enumerable: true,
      get: () => (text ??= this.read()),
    });
  }

  private read(): string {
    const bytes = regularFileBytes(this.file, this.size);
    if (bytes === undefined || sha256Hex(bytes) !== this.sha256)
      throw new OutputChangedError(`${this.file} changed while harvgen was building (it no longer holds what the last build wrote)`);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }
}

/** The bytes of `file` when it is a regular file of exactly `size` bytes, never through a link (src/util/read-bounded.ts). */
export function regularFileBytes(file: string, size: number): Uint8Array | undefined {
  return readBounded(file, size, { follow: false });
}

/** SHA-256 of `file` when it is a regular file of exactly `size` bytes, never through a link (regularFileBytes); else undefined. */
export function regularFileSha(file: string, size: number): string | undefined {
  const bytes = regularFileBytes(file, size);
  return bytes && sha256Hex(bytes);
}

/** Whether `a` is a reused file (an OnDiskArtifact, whichever load of this module made it). */
export function isOnDisk(a: Artifact): a is OnDiskArtifact {
  return (a as Partial<Record<typeof ON_DISK, boolean>>)[ON_DISK] === true;
}

/** A reused output file no longer holds what was recorded (see OnDiskArtifact). */
export class OutputChangedError extends Error {
  override readonly name = 'OutputChangedError';
}

/** An artifact's size in bytes as written, without reading a reused file back. */
export function artifactSize(a: Artifact): number {
  return isOnDisk(a) || isParts(a) || isLazy(a) || isSpilled(a) ? a.size : Buffer.byteLength(a.contents, 'utf8');
}

/** SHA-256 of artifacts already hashed (manifest.json lists every file's): each file is hashed once per build. */
const hashed = new WeakMap<Artifact, string>();

/** An artifact's SHA-256 as written, without reading a reused file back or hashing a file twice. */
export function artifactSha(a: Artifact): string {
  if (isOnDisk(a) || isLazy(a) || isSpilled(a)) return a.sha256;
  let sha = hashed.get(a);
  if (sha === undefined) hashed.set(a, (sha = isParts(a) ? partsSha256Hex(a.parts) : sha256Hex(a.contents)));
  return sha;
}

/** Remember `sha` as the SHA-256 of `a`'s contents (computed by the caller from them). */
export function knownSha(a: Artifact, sha: string): void {
  hashed.set(a, sha);
}

/** A reused file as it crosses threads (a structured clone would read it back): plain fields, revived by `fromWire`. */
interface WireOnDisk {
  readonly path: string;
  readonly mode: number;
  readonly url?: string;
  readonly onDisk: readonly [file: string, sha256: string, size: number, checked: boolean];
}

/** Artifacts as plain data for another thread: reused files stay unread. */
export function artifactsToWire(artifacts: readonly Artifact[]): readonly Artifact[] {
  return artifacts.map((a) =>
    isOnDisk(a)
      ? ({
          path: a.path,
          mode: a.mode,
          ...(a.url !== undefined ? { url: a.url } : {}),
          onDisk: [a.file, a.sha256, a.size, a.checked],
        } satisfies WireOnDisk as unknown as Artifact)
      : // A text kept as parts crosses as its parts only (a clone would join them through `contents` too).
        isParts(a)
        ? ({ path: a.path, mode: a.mode, textParts: a.parts } satisfies WireParts as unknown as Artifact)
        : // A text set aside on disk crosses as its text (its spill is this thread's).
          isSpilled(a)
          ? { path: a.path, contents: a.contents, mode: a.mode, ...(a.url !== undefined ? { url: a.url } : {}) }
          : a,
  );
}

/** A TextParts as it crosses threads. */
interface WireParts {
  readonly path: string;
  readonly mode: number;
  readonly textParts: readonly string[];
}

/** Artifacts from another thread (artifactsToWire), reused files revived. */
export function artifactsFromWire(artifacts: readonly Artifact[]): readonly Artifact[] {
  return artifacts.map((a) => {
    const parts = (a as unknown as Partial<WireParts>).textParts;
    if (parts) return new TextParts(a.path, parts, a.mode);
    const w = a as unknown as Partial<WireOnDisk>;
    if (!w.onDisk) return a;
    const revived = new OnDiskArtifact(a.path, a.mode, a.url, w.onDisk[0], w.onDisk[1], w.onDisk[2]);
    revived.checked = w.onDisk[3];
    return revived;
  });
}
