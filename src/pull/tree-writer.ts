// The staged tree of one pull (src/pull/fetch.ts): every file written into `incoming/<hex>/` goes
// through here, so that nothing the signed manifest.json does not list reaches the disk, no file is
// larger than the size it gives, a path is never outside the tree, and two files that cannot both
// exist (a file `a` and a file `a/b`) are a refusal with both names, never a raw errno.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isSafeRelativePath } from '../render/artifact.ts';
import { LAYOUT } from '../derive/layout.ts';
import { PullRefused } from './refused.ts';

/** What the signed manifest.json lists: path -> SHA-256 (hex) and size. */
export type Listed = ReadonlyMap<string, { readonly sha256: string; readonly size: number }>;

/** The two files that sign the tree, written before the list is known. */
export const SIGNING_FILES: readonly string[] = [LAYOUT.manifest, LAYOUT.manifestSignature];

const CLASH = new Set(['EEXIST', 'ENOTDIR', 'EISDIR']);

export class TreeWriter {
  /** path -> SHA-256 (hex) of what was written. */
  readonly written = new Map<string, string>();
  #listed: Listed | undefined;

  constructor(
    readonly stage: string,
    readonly digest: string,
  ) {}

  /** From now on only files of this list, at their size, may be written. */
  limitTo(listed: Listed): void {
    this.#listed = listed;
  }

  /** The size the list gives `path` (undefined before the list is known or for the signing files). */
  sizeOf(path: string): number | undefined {
    return this.#listed?.get(path)?.size;
  }

  /** Refuse a path the tree cannot hold, or (once the list is known) one it does not list. */
  admit(path: string): void {
    if (!isSafeRelativePath(path) || path === '.harvgen' || path.startsWith('.harvgen/'))
      throw new PullRefused(`${this.digest} names a file outside the tree: ${JSON.stringify(path)}`);
    if (this.written.has(path)) throw new PullRefused(`${this.digest} holds ${path} twice`);
    if (this.#listed && !this.#listed.has(path) && !SIGNING_FILES.includes(path))
      throw new PullRefused(`${this.digest}: ${path} is not listed in manifest.json`);
  }

  write(path: string, mode: number, contents: Buffer): void {
    this.admit(path);
    const size = this.sizeOf(path);
    if (size !== undefined && contents.length !== size)
      throw new PullRefused(`${this.digest}: ${path} is ${contents.length} bytes, manifest.json gives ${size}`);
    const file = join(this.stage, path);
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, contents, { mode: mode === 0o755 ? 0o755 : 0o644, flag: 'wx' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === undefined || !CLASH.has(code)) throw e;
      throw new PullRefused(
        `${this.digest} holds ${path} and ${this.clashWith(path)}: a file and a directory of one name cannot both exist`,
      );
    }
    this.written.set(path, createHash('sha256').update(contents).digest('hex'));
  }

  /** The written path that `path` clashes with (a file on its way, or a file below it). */
  private clashWith(path: string): string {
    for (const w of this.written.keys()) if (path.startsWith(`${w}/`) || w.startsWith(`${path}/`)) return w;
    return 'another file';
  }
}
