// A large site's rendered texts set aside on disk while the rest of it renders (a plain build):
// each file past the first SPILL_AFTER bytes is written to one unlinked file in the output root and
// kept as its place there, its size and its SHA-256 (SpilledText, src/render/artifact.ts), so that
// a 10,000-node site does not hold its 53 MB of node files in memory until emit writes them.
// Nothing is left behind: the file is unlinked as soon as it is made (open, then unlink; one that a
// build killed in between left is removed by the next spill there, its process gone), and its
// descriptor closes when no file of the site needs it any more.
//
// A site whose directory is not there yet (its first build) is staged instead (`Spill.staged`,
// ./staged.ts): every text written once, to its own file in the site's staging directory.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, opendirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { eachUtf8Chunk, eachUtf8ChunkOf } from '../util/utf8-chunks.ts';
import { StagedTexts, type StagingScope } from './staged.ts';

export { recordStagedForTests, setStageBatchForTests, StagingScope } from './staged.ts';

/** Texts of a site kept in memory before the next ones are set aside (a site below it never spills). */
export const SPILL_AFTER = 8 * 1024 * 1024;

/** The tests' threshold, process-wide: a test loader may load this module twice (ESM and CommonJS). */
const TEST_AFTER = Symbol.for('harvgen.spillAfter');
const state = globalThis as { [TEST_AFTER]?: number };

/** Tests only: spill after this many bytes (0: every text); undefined restores SPILL_AFTER. */
export function setSpillAfterForTests(bytes: number | undefined): void {
  if (bytes === undefined) delete state[TEST_AFTER];
  else state[TEST_AFTER] = bytes;
}

/** Closes a spill's descriptor once nothing refers to it (a build's files are dropped after emit). */
const closing = new FinalizationRegistry<number>((fd) => {
  // The spill was never closed (a site not written, or its files kept by a library caller).
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
});

const copyBuffer = Buffer.allocUnsafe(64 * 1024);

/** A text set aside: where, its size in bytes and its SHA-256. */
export interface Spilled {
  readonly place: SpillPlace;
  readonly size: number;
  readonly sha256: string;
}

/** A spill a killed build made and had no time to unlink (between its open and its unlink): removed. */
function removeStale(dir: string): void {
  let names: string[];
  try {
    names = listBounded(dir, 100_000);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^\.harvgen-spill-([0-9]+)-[0-9a-f]{12}$/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    const file = join(dir, name);
    try {
      if (lstatSync(file).isFile()) unlinkSync(file);
    } catch {
      // gone meanwhile
    }
  }
}

/** Up to `max` names of `dir` (an output root holds its site directories: a few thousand). */
function listBounded(dir: string, max: number): string[] {
  const d = opendirSync(dir);
  try {
    const names: string[] = [];
    for (let e = d.readSync(); e !== null && names.length < max; e = d.readSync()) names.push(e.name);
    return names;
  } finally {
    d.closeSync();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Where a spilled text is: at `offset` of the spill's file, or (staged) at `path` below its site directory. */
export interface SpillPlace {
  readonly spill: Spill;
  readonly offset: number;
  readonly path?: string;
}

/** One site's spill. `put` says where a text went, or undefined to keep it in memory. */
export class Spill {
  #fd: number | undefined;
  #offset = 0;
  #seen = 0;
  #failed = false;
  readonly #after = state[TEST_AFTER] ?? SPILL_AFTER;
  /** A first build's texts, staged (./staged.ts). */
  #staged: StagedTexts | undefined;
  /** `dir`: the output root (created when missing, as emit would). */
  constructor(private readonly dir: string) {}

  /**
   * The spill of site `site`, whose directory in `dir` (the output root) is not there yet: its
   * texts are staged (./staged.ts). `scope` collects it, for its build to discard.
   */
  static staged(dir: string, site: string, scope: StagingScope): Spill {
    const spill = new Spill(dir);
    spill.#staged = new StagedTexts(dir, site);
    scope.add(spill, site);
    return spill;
  }

  /** Whether a text of `length` characters is to be set aside (counted either way). */
  wants(length: number): boolean {
    this.#seen += length;
    return this.engaged;
  }

  /** Whether texts are being set aside (the site is past the threshold, or staged, and the spill works). */
  get engaged(): boolean {
    return this.#staged ? !this.#staged.failed : this.#seen > this.#after && !this.#failed;
  }

  /**
   * A text set aside: its place, size (UTF-8 bytes) and SHA-256, or undefined when the spill failed
   * (keep it in memory). Staged: written to `path` (a safe relative path) with `mode`.
   */
  putText(text: string, path: string, mode: number): Spilled | undefined {
    if (this.#staged) {
      const put = this.#staged.put(text, path, mode);
      return put && { place: { spill: this, offset: 0, path }, ...put };
    }
    return this.#put((each) => eachUtf8Chunk(text, each));
  }

  /** A text kept as parts (manifest.json), written part by part, never joined (staged: kept in memory, emit writes it last). */
  putParts(parts: readonly string[]): Spilled | undefined {
    return this.engaged && !this.#staged ? this.#put((each) => eachUtf8ChunkOf(parts, each)) : undefined;
  }

  /** The staging directory the site's texts were written to, while no emit has adopted it. */
  get stagingDir(): string | undefined {
    return this.#staged?.dir;
  }

  /** Emit renamed the staging directory to `root`: the staged files are read from there now. */
  adopt(root: string): void {
    this.#staged?.adopt(root);
  }

  /** Remove the staging directory unless emit adopted it; reading a staged file then throws. */
  discard(): void {
    this.#staged?.discard();
  }

  /** Write the texts staged so far (emit does, before it takes the staging directory). Throws what a write met. */
  flush(): void {
    this.#staged?.flush();
  }

  /**
   * Encoded through one reused buffer (src/util/utf8-chunks.ts), not a Buffer per text: those live
   * outside the heap until the collector runs, and 40,000 of them raised the peak by tens of MB.
   */
  #put(chunks: (each: (bytes: Uint8Array) => void) => void): Spilled | undefined {
    if (this.#failed) return undefined;
    const start = this.#offset;
    try {
      const fd = (this.#fd ??= this.#open());
      const h = createHash('sha256');
      chunks((bytes) => {
        h.update(bytes);
        for (let n = 0; n < bytes.byteLength;) n += writeSync(fd, bytes, n, bytes.byteLength - n, this.#offset + n);
        this.#offset += bytes.byteLength;
      });
      return { place: { spill: this, offset: start }, size: this.#offset - start, sha256: h.digest('hex') };
    } catch {
      // No room or no right to write there: the site's texts stay in memory, as below the threshold.
      this.#failed = true;
      return undefined;
    }
  }

  /** Write the `size` bytes at `place` to `fd` (emit), through one reused buffer. */
  copyTo(place: SpillPlace, size: number, fd: number): void {
    this.#reading(place, (from, offset) => {
      for (let done = 0; done < size;) {
        const r = readSync(from, copyBuffer, 0, Math.min(copyBuffer.byteLength, size - done), offset + done);
        if (r === 0) throw new Error('a spilled file ended early');
        for (let n = 0; n < r;) n += writeSync(fd, copyBuffer, n, r - n);
        done += r;
      }
    });
  }

  /** Call `read` with the descriptor a text at `place` is read from and its offset there. */
  #reading(place: SpillPlace, read: (fd: number, offset: number) => void): void {
    if (this.#staged && place.path !== undefined) {
      const fd = this.#staged.open(place.path);
      try {
        read(fd, 0);
      } finally {
        closeSync(fd);
      }
      return;
    }
    if (this.#fd === undefined) throw new Error('the spill of these files was let go after they were written');
    read(this.#fd, place.offset);
  }

  /** Let go of the spill (its files are written and dropped): its descriptor is closed, and reading it throws; a staging directory no emit adopted is removed. */
  close(): void {
    this.discard();
    if (this.#fd === undefined) return;
    closing.unregister(this);
    closeSync(this.#fd);
    this.#fd = undefined;
    this.#failed = true;
  }

  /** The `size` bytes at `place`. */
  read(place: SpillPlace, size: number): Uint8Array {
    const out = Buffer.allocUnsafe(size);
    this.#reading(place, (from, offset) => {
      for (let n = 0; n < size;) {
        const r = readSync(from, out, n, size - n, offset + n);
        if (r === 0) throw new Error('a spilled file ended early');
        n += r;
      }
    });
    return out;
  }

  #open(): number {
    mkdirSync(this.dir, { recursive: true });
    removeStale(this.dir);
    // Exclusive (O_EXCL: never through a link someone placed), owner only, unlinked at once.
    const file = join(this.dir, `.harvgen-spill-${process.pid}-${randomBytes(6).toString('hex')}`);
    const fd = openSync(file, 'wx+', 0o600);
    try {
      unlinkSync(file);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    closing.register(this, fd, this);
    return fd;
  }
}
