// The files of one render as they are added (`TreeFiles`: each path checked, each unsafe value a
// diagnostic for its file), then sorted by path once, a second file at one path left out.
import type { Diagnostic } from '../diagnostics/types.ts';
import { isSafeRelativePath, LazyBytes, sha256Hex, SpilledText, type Artifact } from './artifact.ts';
import type { Spill } from './spill.ts';
import { UnsafeValueError } from '../formats/escape.ts';
import type { RenderCache } from './render-cache.ts';

/** How a file is added: served by nginx (listed with its URL), its mode, a size limit that reports itself. */
export interface AddOptions {
  readonly served?: boolean;
  readonly mode?: number;
  readonly limit?: (bytes: number) => boolean;
  /** Made again whenever its bytes are needed, not kept (LazyBytes: a boot medium's image). */
  readonly lazy?: boolean;
  /** With `lazy`: a binary the committed tree lists and does not hold (LazyBytes.deployOnly). */
  readonly deployOnly?: boolean;
}

/** Adds one file to the tree. */
export type Add = (path: string, render: () => string | Uint8Array, opts?: AddOptions) => void;

/**
 * The files of one render as they are added: each path checked and added once, each render's
 * unsafe value a diagnostic for its file.
 */
export class TreeFiles {
  readonly files: Artifact[] = [];
  readonly diagnostics: Diagnostic[] = [];
  /**
   * `<server>/`, made once and flattened: each file's URL is then this and its path joined, which
   * V8 keeps as two references (32 bytes), not a copy of the server's address per file (about 4.5 MB
   * for a 10,000-node site's 53,000 URLs).
   */
  private readonly prefix: string;
  constructor(
    server: string,
    /** A plain build of a large site: texts past the first few MB are set aside on disk; a first build: every text, into its staging directory (src/render/spill.ts). */
    private readonly spill?: Spill,
  ) {
    this.prefix = `${server}/`;
    void this.prefix.charCodeAt(0); // flattens it
  }

  /** Add one file (`render` runs now); a problem is a diagnostic and the file is left out. */
  readonly add: Add = (path, render, opts = {}) => {
    if (!this.admit(path)) return;
    const file = this.made(path, render, opts);
    if (file) this.keep(file);
  };

  /** The file at an admitted path, or undefined when it cannot be written (a diagnostic says why). */
  private made(path: string, render: () => string | Uint8Array, opts: AddOptions): Artifact | undefined {
    const contents = this.contentsOf(path, render);
    if (contents === undefined) return undefined;
    // A file over its limit is reported by `limit` and not kept.
    if (opts.limit && !opts.limit(typeof contents === 'string' ? Buffer.byteLength(contents) : contents.byteLength)) return undefined;
    const url = opts.served ? this.prefix + path : undefined;
    if (opts.lazy && typeof contents !== 'string')
      return new LazyBytes(
        path,
        opts.mode ?? 0o644,
        url,
        contents.byteLength,
        sha256Hex(contents),
        render as () => Uint8Array,
        opts.deployOnly === true,
      );
    if (this.spill && typeof contents === 'string' && this.spill.wants(contents.length)) {
      const put = this.spill.putText(contents, path, opts.mode ?? 0o644);
      if (put) return new SpilledText(path, opts.mode ?? 0o644, url, put.place, put.size, put.sha256);
    }
    return { path, contents, mode: opts.mode ?? 0o644, ...(url !== undefined ? { url } : {}) };
  }

  /** A text kept as parts (manifest.json), set aside on disk when the site's texts are (else undefined). */
  spilledParts(path: string, parts: readonly string[], mode: number): Artifact | undefined {
    const put = this.spill?.putParts(parts);
    return put && new SpilledText(path, mode, undefined, put.place, put.size, put.sha256);
  }

  private keep(file: Artifact): void {
    this.files.push(file);
  }

  /**
   * Whether a file may be added at `path` (a safe path); a problem is a diagnostic. Two files at
   * one path are found once the files are sorted (`sortFiles`).
   */
  private admit(path: string): boolean {
    return this.admitSafe(path, isSafeRelativePath(path));
  }

  /** `admit`, with whether `path` is safe known already. */
  private admitSafe(path: string, safe: boolean): boolean {
    if (!safe) {
      this.diagnostics.push({
        code: 'RENDER_PATH_ESCAPE',
        severity: 'error',
        message: `refusing to write ${JSON.stringify(path)}: it would leave the output directory`,
        hint: 'This is a bug in harvgen (inventory names are validated before rendering); please report it.',
      });
      return false;
    }
    return true;
  }

  /** The file's contents, or undefined when a value cannot be written in its format. */
  private contentsOf(path: string, render: () => string | Uint8Array): string | Uint8Array | undefined {
    try {
      return render();
    } catch (e) {
      if (!(e instanceof UnsafeValueError)) throw e;
      // Validation should have refused the value; the escaper is the second line of defence.
      this.diagnostics.push({
        code: 'RENDER_UNSAFE_VALUE',
        severity: 'error',
        message: `${path}: ${e.message}`,
        hint: 'This is a bug in harvgen (the value passed validation but its file cannot hold it); please report it with the inventory. Nothing was written.',
      });
      return undefined;
    }
  }
}

const byPath = (a: Artifact, b: Artifact) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Sort a site's files by path, and leave out (and report) a second file at a path. Under watch
 * (`cache`), the order is kept with the paths it was found for: a render that makes the same
 * paths in the same order (most edits) takes it again instead of sorting some 40,000 paths, and
 * its paths are those found distinct then.
 */
export function sortFiles(files: Artifact[], diagnostics: Diagnostic[], cache: RenderCache | undefined): void {
  if (!cache) {
    files.sort(byPath);
    dropDuplicates(files, diagnostics);
    return;
  }
  const last = cache.order;
  const same = last !== undefined && last.paths.length === files.length && files.every((f, i) => f.path === last.paths[i]);
  const order = same ? last : sortedOrder(files);
  const unsorted = files.slice();
  for (let i = 0; i < files.length; i++) files[i] = unsorted[order.perm[i]!]!;
  // An order with a path twice is not kept: the next render looks again.
  cache.order = same || !dropDuplicates(files, diagnostics) ? order : undefined;
}

/**
 * Leave out each file whose path the file before it (in sorted order) has, with a diagnostic: no
 * valid inventory makes two (its names are validated so that output paths never collide). Whether
 * one was found.
 */
function dropDuplicates(files: Artifact[], diagnostics: Diagnostic[]): boolean {
  let kept = 0;
  for (let i = 0; i < files.length; i++) {
    if (kept > 0 && files[i]!.path === files[kept - 1]!.path) {
      diagnostics.push({
        code: 'RENDER_PATH_ESCAPE',
        severity: 'error',
        message: `two files would be written at ${files[i]!.path}`,
        hint: 'This is a bug in harvgen (inventory names are validated so that output paths never collide); please report it.',
      });
      continue;
    }
    files[kept++] = files[i]!;
  }
  const found = kept < files.length;
  files.length = kept;
  return found;
}

/** Where each path goes: `perm[i]` is the index in `files` of the i-th path in sorted order. */
function sortedOrder(files: readonly Artifact[]): NonNullable<RenderCache['order']> {
  const perm = Uint32Array.from(files.keys()).sort((i, j) => byPath(files[i]!, files[j]!));
  return { paths: files.map((f) => f.path), perm };
}

/** Put `file` in its place in `files`, sorted by path. */
export function insertSorted(files: Artifact[], file: Artifact): void {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byPath(files[mid]!, file) < 0) lo = mid + 1;
    else hi = mid;
  }
  files.splice(lo, 0, file);
}
