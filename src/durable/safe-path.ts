// Containment: every path emit (or pull) touches is a plain relative path below the site directory, and
// no component of it (the site directory included) is a symbolic link, so no write, rename,
// chmod or delete can land outside the output root. The output root itself may be a link:
// the user chose it.
import { lstatSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { isSafeRelativePath } from '../util/paths.ts';
import { DurableError } from './errors.ts';

/** Suffix of every temporary file of emit's journal (`.<name>.harvgen-tmp` next to its target; single-file writes use atomic.ts's names). */
export const TEMP_SUFFIX = '.harvgen-tmp';

/** Temp name of a relative path: a hidden sibling. */
export function tempFor(rel: string): string {
  const i = rel.lastIndexOf('/');
  return `${rel.slice(0, i + 1)}.${rel.slice(i + 1)}${TEMP_SUFFIX}`;
}

/** The refusal for a symbolic link at `p` (an absolute path below or at the site directory). */
export function symlinkRefused(p: string): DurableError {
  return new DurableError(
    'EMIT_SYMLINK_REFUSED',
    `refusing to write through ${p}: it is a symbolic link (it could lead outside the output directory)`,
    'Remove the link; harvgen owns the files below the output directory and never follows links there.',
    p,
  );
}

/** The lstat of `p`, undefined when there is nothing there; any other error is thrown. Synchronous (src/util/lstat.ts says why). */
function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** Checks paths below one site directory; directories found safe are remembered. */
export class SafePaths {
  private readonly checked = new Set<string>();
  constructor(readonly root: string) {}

  /** Refuse a symbolic link at `p` (an existing path below or at the root). */
  private async noLink(p: string): Promise<boolean> {
    const st = lstatOrUndefined(p);
    if (st?.isSymbolicLink()) throw symlinkRefused(p);
    return st !== undefined;
  }

  /** The site directory itself must not be a link. */
  async checkRoot(): Promise<void> {
    await this.noLink(this.root);
  }

  /** Absolute path of one of emit's own files at the top of the site directory (journal and its temp), not a link. */
  async own(name: string): Promise<string> {
    const p = join(this.root, name);
    await this.noLink(p);
    return p;
  }

  /** Absolute path of `rel` (or of its temp sibling) below the root, after checking every existing component. */
  async resolve(rel: string, options: { temp?: boolean } = {}): Promise<string> {
    if (!isSafeRelativePath(rel)) throw new Error(`refusing to touch ${JSON.stringify(rel)}: not a plain relative path`);
    const target = join(this.root, options.temp ? tempFor(rel) : rel);
    const r = relative(this.root, target);
    if (r.startsWith('..') || r.split(sep).includes('..')) throw new Error(`refusing to touch ${rel}: outside ${this.root}`);
    await this.checkDir(dirname(target));
    await this.noLink(target);
    return target;
  }

  /** Check the directories from the root down to `dir` (missing ones are created later by us). */
  private async checkDir(dir: string): Promise<void> {
    if (dir === this.root || this.checked.has(dir)) return;
    await this.checkDir(dirname(dir));
    const exists = await this.noLink(dir);
    if (exists) this.checked.add(dir);
  }
}
