// A site's first build, staged as it renders (Spill.staged, ./spill.ts): its directory is not in
// the output yet, so each text goes once to its own file in the site's staging directory
// (src/durable/staging.ts), hashed on the way; emit writes the rest there (manifest.json last) and
// renames the directory into place (src/emit/fresh.ts), which `adopt` records. The texts are
// encoded into a batch and written file after file when it is full: a file written between two
// renders cost half again as much as in a row (ARCHITECTURE.md, "A first build"). A staging
// directory no emit adopted is removed by `discard` (build() discards its scope when it ends, and
// the process on exit); one a killed build left, by the next first build of its site.
import { createHash } from 'node:crypto';
import { openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { eachUtf8Chunk } from '../util/utf8-chunks.ts';
import { isSafeRelativePath } from '../util/paths.ts';
import { crashPoint } from '../durable/crash-point.ts';
import { makeDirs, makeStaging, NewFileCreator, releaseStaging, stagingPath } from '../durable/staging.ts';

/** `dir`/`path`, as text when `path` is a plain relative one (every rendered file's is), else by path.join (which normalises it first). */
const under = (dir: string, path: string): string => (isSafeRelativePath(path) ? `${dir}/${path}` : join(dir, path));

/** The bytes of staged texts written together. */
const BATCH = 8 * 1024 * 1024;

/** Tests only, process-wide (a test loader may load this module twice): a smaller batch; the sites staged. */
const TEST_BATCH = Symbol.for('harvgen.stageBatch');
const TEST_STAGED = Symbol.for('harvgen.stagedSites');
const state = globalThis as { [TEST_BATCH]?: number; [TEST_STAGED]?: string[] };

/** Tests only: stage texts in batches of `bytes` (undefined restores the default). */
export function setStageBatchForTests(bytes: number | undefined): void {
  if (bytes === undefined) delete state[TEST_BATCH];
  else state[TEST_BATCH] = bytes;
}

/** Tests only: from now on, the names of the sites staged are pushed to `into` (undefined: no more). */
export function recordStagedForTests(into: string[] | undefined): void {
  if (into === undefined) delete state[TEST_STAGED];
  else state[TEST_STAGED] = into;
}

/** What a scope discards: a spill with its staged texts. */
interface Discardable {
  discard(): void;
}

/**
 * A build's first builds: the staged spills it made (each discarded when the build ends, unless an
 * emit adopted it), and whether the sites rendered now are about to be written. Only then are
 * texts staged: a site rendered to be reported only (a build that writes nothing, or
 * --all-or-nothing before it knows it may write), or before the output is known to be the right
 * kind of tree (a deploy tree's secrets), never puts a file there.
 */
export class StagingScope {
  readonly #spills = new Set<Discardable>();
  writing = false;
  /** A spill staging `site` for this build. */
  add(spill: Discardable, site: string): void {
    this.#spills.add(spill);
    state[TEST_STAGED]?.push(site);
  }
  /** Discard every spill of this build no emit adopted. */
  discard(): void {
    for (const spill of this.#spills) spill.discard();
    this.#spills.clear();
  }
}

/** Staged texts whose directory no emit adopted and no discard removed yet: removed when the process exits. */
const live = new Set<StagedTexts>();
/** An output root a staging made, and the first directory made for it (removed again, when empty, by a discard). */
const madeFor = new Map<string, string>();
let exitHook = false;

/** One site's staged texts. */
export class StagedTexts {
  readonly #parent: string;
  readonly #site: string;
  readonly #dir: string;
  /** Where the files are now: the staging directory, or the site's once adopted. */
  #base: string;
  #created = false;
  #adopted = false;
  #count = 0;
  readonly #made = new Set<string>();
  readonly #creator = new NewFileCreator();
  /** Texts not written yet: their bytes in `#batch`. */
  #pending: { readonly path: string; readonly mode: number; readonly start: number; readonly size: number }[] = [];
  #batch: Buffer | undefined;
  #used = 0;
  #error: unknown;
  readonly #batchSize = state[TEST_BATCH] ?? BATCH;
  /** No more texts are staged (a write failed, or the staging is discarded). */
  failed = false;

  /** The texts of `site`, whose directory in `parent` (the output root) is not there yet. */
  constructor(parent: string, site: string) {
    this.#parent = parent;
    this.#site = site;
    this.#dir = stagingPath(parent, site);
    this.#base = this.#dir;
  }

  /** The staging directory the texts are written to, while no emit adopted it. */
  get dir(): string | undefined {
    return this.#created && !this.#adopted && !this.failed ? this.#dir : undefined;
  }

  /** Stage a text: its size (UTF-8 bytes) and SHA-256, or undefined when it is to stay in memory. */
  put(text: string, path: string, mode: number): { readonly size: number; readonly sha256: string } | undefined {
    if (this.failed) return undefined;
    if (text.length * 3 > this.#batchSize) return this.#putNow(text, path, mode);
    if (this.#used + text.length * 3 > this.#batchSize) this.#flushQuietly();
    if (this.failed) return undefined;
    const batch = (this.#batch ??= Buffer.allocUnsafe(this.#batchSize));
    const start = this.#used;
    const size = batch.write(text, start, 'utf8');
    this.#used += size;
    this.#pending.push({ path, mode, start, size });
    return {
      size,
      sha256: createHash('sha256')
        .update(batch.subarray(start, start + size))
        .digest('hex'),
    };
  }

  /** A text larger than a batch: written to its file now, hashed as it is written. */
  #putNow(text: string, path: string, mode: number): { readonly size: number; readonly sha256: string } | undefined {
    try {
      this.#flushQuietly();
      if (this.failed) return undefined;
      this.#create();
      const file = join(this.#dir, path);
      makeDirs(this.#dir, dirname(file), this.#made);
      const h = createHash('sha256');
      let size = 0;
      this.#creator.create(file, mode, (fd) =>
        eachUtf8Chunk(text, (bytes) => {
          h.update(bytes);
          for (let n = 0; n < bytes.byteLength;) n += writeSync(fd, bytes, n, bytes.byteLength - n);
          size += bytes.byteLength;
        }),
      );
      crashPoint('staged', ++this.#count);
      return { size, sha256: h.digest('hex') };
    } catch (e) {
      // No room or no right to write there: this text stays in memory, and emit writes it (what was
      // written of it goes). A path that is another file's too (a duplicate, which the render
      // reports as an error) stays as the first wrote it.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' && this.#created) rmSync(join(this.#dir, path), { force: true });
      return undefined;
    }
  }

  /** Write the texts staged so far (emit does, before it takes the staging directory). Throws what a write met. */
  flush(): void {
    this.#flushQuietly();
    if (this.#error !== undefined) throw this.#error;
  }

  /** Write the batch; a failure is kept (`flush` throws it: the files it names are not all there) and stages no more. */
  #flushQuietly(): void {
    if (this.#pending.length === 0) return;
    try {
      this.#create();
      const batch = this.#batch!;
      for (const p of this.#pending) {
        const file = under(this.#dir, p.path);
        makeDirs(this.#dir, dirname(file), this.#made);
        this.#creator.create(file, p.mode, (fd) => {
          for (let n = 0; n < p.size;) n += writeSync(fd, batch, p.start + n, p.size - n);
        });
        crashPoint('staged', ++this.#count);
      }
    } catch (e) {
      this.#error = e;
      this.failed = true;
    }
    this.#pending = [];
    this.#used = 0;
  }

  /** A staged file opened for reading (the batch written first). */
  open(path: string): number {
    this.flush();
    if (!this.#adopted && !this.#created) throw new Error('the staging directory of these files was removed');
    return openSync(join(this.#base, path), 'r');
  }

  /** Emit renamed the staging directory to `root`: the files are read from there now. */
  adopt(root: string): void {
    this.#adopted = true;
    this.#base = root;
    live.delete(this);
    madeFor.delete(this.#parent);
    releaseStaging(this.#dir);
  }

  /** Remove the staging directory unless emit adopted it (and the output root it made, once empty). */
  discard(): void {
    live.delete(this);
    if (this.#adopted) return;
    this.failed = true;
    this.#pending = [];
    this.#batch = undefined;
    if (this.#created) {
      rmSync(this.#dir, { recursive: true, force: true });
      releaseStaging(this.#dir);
    }
    this.#created = false;
    const from = madeFor.get(this.#parent);
    for (let d = this.#parent; from !== undefined; d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        return; // not empty (another site's files, or its staging directory): kept
      }
      if (d === from || dirname(d) === d) break;
    }
    madeFor.delete(this.#parent);
  }

  /** Make the staging directory once (src/durable/staging.ts, makeStaging). */
  #create(): void {
    if (this.#created) return;
    const made = makeStaging(this.#parent, this.#site);
    if (!made) {
      // Another build of this process stages the site: this one keeps its texts in memory.
      this.failed = true;
      throw new Error(`${this.#dir} is another build's`);
    }
    if (made.madeFrom !== undefined) madeFor.set(this.#parent, made.madeFrom);
    this.#created = true;
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const staged of [...live]) staged.discard();
      });
    }
  }
}
