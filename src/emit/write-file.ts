// Writing one new file of a site: created exclusively (O_EXCL: never through a link or over a
// file someone else made) with its mode, its bytes written once. Shared by the journal's temps
// (emit/index.ts) and a new site's staging directory (emit/fresh.ts).
import { writeFileSync } from 'node:fs';
import { NewFileCreator } from '../durable/staging.ts';
import { isParts, isSpilled, type Artifact } from '../render/artifact.ts';
import { writeText } from '../util/utf8-chunks.ts';

/** Writes new files (src/durable/staging.ts, NewFileCreator: exclusively, with their mode). */
export class NewFiles {
  private readonly creator = new NewFileCreator();

  /** Create `file` exclusively with `mode` and the artifact's bytes. */
  write(file: string, a: Artifact, mode: number): void {
    if (isSpilled(a)) this.creator.create(file, mode, (fd) => a.writeTo(fd));
    else writeNew(this.creator, file, isParts(a) ? a.parts : a.contents, mode);
  }
}

/**
 * Create `file` exclusively with `mode` and write `contents`. A text goes through one reused
 * buffer (src/util/utf8-chunks.ts), large ones in slices: writeFileSync would allocate a buffer
 * per text outside the heap, which the collector frees only when the heap itself grows (for a
 * 10,000-node site's 49,000 files about 38 MB more peak RSS than rendering reached, README "Speed
 * II"), and a fresh one per large text (manifest.json) costs its page faults again.
 */
function writeNew(creator: NewFileCreator, file: string, contents: string | readonly string[] | Uint8Array, mode: number): void {
  creator.create(file, mode, (fd) => (contents instanceof Uint8Array ? writeFileSync(fd, contents) : writeText(fd, contents)));
}
