// Writing one new file of a site: created exclusively (O_EXCL: never through a link or over a
// file someone else made) with its mode, its bytes written once. Shared by the journal's temps
// (emit/index.ts) and a new site's staging directory (emit/fresh.ts).
import { chmodSync, closeSync, lstatSync, openSync, writeFileSync } from 'node:fs';
import { isParts, isSpilled, type Artifact } from '../render/artifact.ts';
import { writeText } from '../util/utf8-chunks.ts';

/**
 * Writes new files; the mode is set at creation, and a chmod follows only when the process umask
 * narrowed it (learned from the first file).
 */
export class NewFiles {
  private narrowed: number | undefined;

  /** Create `file` exclusively with `mode` and the artifact's bytes. */
  write(file: string, a: Artifact, mode: number): void {
    if (isSpilled(a)) {
      const fd = openSync(file, 'wx', mode);
      try {
        a.writeTo(fd);
      } finally {
        closeSync(fd);
      }
    } else writeNew(file, isParts(a) ? a.parts : a.contents, mode);
    this.narrowed ??= mode & ~lstatSync(file).mode & 0o777;
    if ((mode & this.narrowed) !== 0) chmodSync(file, mode);
  }
}

/**
 * Create `file` exclusively with `mode` and write `contents`. A text goes through one reused
 * buffer (src/util/utf8-chunks.ts), large ones in slices: writeFileSync would allocate a buffer
 * per text outside the heap, which the collector frees only when the heap itself grows (for a
 * 10,000-node site's 49,000 files about 38 MB more peak RSS than rendering reached, README "Speed
 * II"), and a fresh one per large text (manifest.json) costs its page faults again.
 */
function writeNew(file: string, contents: string | readonly string[] | Uint8Array, mode: number): void {
  if (contents instanceof Uint8Array) {
    writeFileSync(file, contents, { mode, flag: 'wx' });
    return;
  }
  const fd = openSync(file, 'wx', mode);
  try {
    writeText(fd, contents);
  } finally {
    closeSync(fd);
  }
}
