// `nginx.file_key` after secret resolution (src/load/secrets.ts): its length is checked where it
// is written, and the committed tree's model gets a marker in its place (README "Threat model",
// the second layer; the names it keys: src/derive/file-names.ts).
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Locator } from './locate.ts';

/**
 * What the model holds as `nginx.file_key` in the committed tree: no tag derived from it is a
 * real one (`keyedTag` writes `x`s for it), so the committed tree never holds a name the key
 * would open. Not a possible key: shorter than `MIN_FILE_KEY`.
 */
export const FILE_KEY_MARKER = '\u00abfile_key\u00bb';

/** Shortest file key: 32 characters, the hex form of 128 random bits (`openssl rand -hex 32` gives 64). */
export const MIN_FILE_KEY = 32;

/**
 * `nginx.file_key` after resolving: a key that is too short is refused where it is written (or
 * read from); in the committed tree the key, whatever its form, becomes `FILE_KEY_MARKER`.
 */
export function fileKeyStandIn(
  out: Record<string, unknown>,
  locate: Locator,
  secrets: 'markers' | 'filled',
  diagnostics: Diagnostic[],
  unresolved: string,
): void {
  const nginx = out.nginx as Record<string, unknown> | undefined;
  const key = nginx?.file_key;
  if (nginx === undefined || typeof key !== 'string') return;
  if (key !== unresolved && [...key].length < MIN_FILE_KEY) {
    diagnostics.push({
      code: 'FILE_KEY_TOO_SHORT',
      severity: 'error',
      message: `nginx.file_key is ${[...key].length} characters long; a file key must have at least ${MIN_FILE_KEY}`,
      hint: 'Make one with `(umask 077; openssl rand -hex 32 > secrets/file-key)` (a file only you may read) and name it with `file_key: { file: secrets/file-key }`.',
      path: 'nginx.file_key',
      ...(locate(['nginx', 'file_key']) ?? {}),
    });
  }
  if (secrets !== 'filled') nginx.file_key = FILE_KEY_MARKER;
}
