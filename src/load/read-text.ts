// Reading an inventory file as text, refusing what is not text before the YAML parser sees
// it: oversized files, binary data and invalid UTF-8 each get their own diagnostic.
import { closeSync, constants, fstatSync, openSync, type Stats } from 'node:fs';
import { readToEnd, readWhole } from '../util/read-fd.ts';
import type { Diagnostic } from '../diagnostics/types.ts';

/** Files above this size are refused unread (a site inventory is a few KiB). */
export const MAX_FILE_BYTES = 1024 * 1024;

/**
 * The text of a file, or diagnostics explaining why it is not usable text, and its stats (taken
 * from the open file, before it is read: the stamp of what was read). Synchronous: a site of
 * 10,000 node files is read in a tenth of the time that a promise per file takes, and the files
 * are small (at most MAX_FILE_BYTES). One open, fstat, read and close per file: a stat by path
 * before it, and readFileSync's own, were a fifth more system calls than these.
 */
export function readInventoryText(absPath: string, displayPath: string): { text?: string; diagnostics: Diagnostic[]; stats?: Stats } {
  const fail = (code: string, message: string, hint: string, pos?: { line: number; col: number }) => ({
    diagnostics: [{ code, severity: 'error' as const, message, hint, file: displayPath, ...pos }],
  });
  let fd: number;
  try {
    // Through a link, as the glob found it; never waiting on a FIFO put in a file's place.
    fd = openSync(absPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return fail('LOAD_READ_FAILED', `cannot read ${displayPath}: ${(e as Error).message}`, 'Check that the file exists and is readable.');
  }
  let stats: Stats;
  let bytes: Buffer;
  try {
    stats = fstatSync(fd);
    if (!stats.isFile()) {
      return fail(
        'LOAD_READ_FAILED',
        `cannot read ${displayPath}: it is not a regular file`,
        'Inventory files are regular YAML files; remove or rename it.',
      );
    }
    if (stats.size > MAX_FILE_BYTES) {
      return fail(
        'LOAD_FILE_TOO_LARGE',
        `${displayPath} is ${(stats.size / 1024 / 1024).toFixed(1)} MiB; inventory files are limited to 1 MiB`,
        'Split the inventory into one file per node under nodes/, or remove generated data from it.',
      );
    }
    // The size the stamp records (a file that grows meanwhile has a newer stamp: the next build
    // reads it again). A file that says it is empty (a FUSE or proc file) is read to its end.
    bytes = stats.size > 0 ? readWhole(fd, stats.size) : readToEnd(fd, MAX_FILE_BYTES + 1);
  } catch (e) {
    return fail('LOAD_READ_FAILED', `cannot read ${displayPath}: ${(e as Error).message}`, 'Check that the file is readable.');
  } finally {
    closeSync(fd);
  }
  if (bytes.length > MAX_FILE_BYTES) {
    return fail(
      'LOAD_FILE_TOO_LARGE',
      `${displayPath} is over 1 MiB; inventory files are limited to 1 MiB`,
      'Split the inventory into one file per node under nodes/, or remove generated data from it.',
    );
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    return fail(
      'LOAD_BINARY_FILE',
      `${displayPath} contains a NUL byte at offset ${nul}: it is not a text file`,
      'Inventory files are UTF-8 YAML text; check that the right file was named.',
      positionOf(bytes, nul),
    );
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad !== undefined) {
    return fail(
      'LOAD_INVALID_UTF8',
      `${displayPath} is not valid UTF-8 (bad byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} at offset ${bad})`,
      'Save the file as UTF-8 (for example with `iconv -f latin1 -t utf-8`).',
      positionOf(bytes, bad),
    );
  }
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { text, diagnostics: [], stats };
}

function positionOf(bytes: Buffer, offset: number): { line: number; col: number } {
  const before = bytes.subarray(0, offset);
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < before.length; i++)
    if (before[i] === 0x0a) {
      line++;
      lastNl = i;
    }
  return { line, col: offset - lastNl };
}

/** One strict decoder for every file (decoding without `stream` keeps no state between calls). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Offset of the first byte that breaks UTF-8, or undefined when the buffer is valid. */
function firstInvalidUtf8(b: Buffer): number | undefined {
  try {
    UTF8.decode(b);
    return undefined;
  } catch {
    // fall through to locate the offending byte
  }
  let i = 0;
  while (i < b.length) {
    const x = b[i]!;
    const n = x < 0x80 ? 0 : x >= 0xc2 && x <= 0xdf ? 1 : x >= 0xe0 && x <= 0xef ? 2 : x >= 0xf0 && x <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return 0;
}
