// What a skipped site shows: the up-to-date record keeps a site's diagnostics (warnings, as
// printed: already masked) and the source lines their code frames show, so that a site skipped
// with warnings reports exactly what its last build reported (text and --json alike).
import type { Diagnostic } from '../diagnostics/types.ts';

/** Per file: its line count and the `[line, text]` of the lines the code frames show (masked). */
export type Frames = Readonly<Record<string, readonly [number, readonly (readonly [number, string])[]]>>;

/** The source lines the code frames of `diagnostics` show (the line before, the line, the line after). */
export function framesOf(diagnostics: readonly Diagnostic[], sources: Readonly<Record<string, string>>): Frames {
  const wanted = new Map<string, Set<number>>();
  for (const d of diagnostics) {
    if (d.file === undefined || d.line === undefined || sources[d.file] === undefined) continue;
    const set = wanted.get(d.file) ?? new Set<number>();
    for (let n = d.line - 1; n <= d.line + 1; n++) if (n >= 1) set.add(n);
    wanted.set(d.file, set);
  }
  const frames: Record<string, readonly [number, readonly (readonly [number, string])[]]> = {};
  for (const [file, lines] of wanted) {
    const all = sources[file]!.split(/\r?\n/);
    frames[file] = [all.length, [...lines].sort((a, b) => a - b).flatMap((n) => (n <= all.length ? [[n, all[n - 1]!] as const] : []))];
  }
  return frames;
}

/**
 * The source texts a skipped site's replayed diagnostics show in their code frames: each file
 * with its line count, blank but for the lines the frames show (the formatter reads nothing else).
 */
export function replayedSources(record: { readonly frames: Frames }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [file, [count, lines]] of Object.entries(record.frames)) {
    if (typeof count !== 'number' || count < 0 || count > 10_000_000 || !Array.isArray(lines)) continue;
    const all = new Array<string>(count).fill('');
    for (const [n, text] of lines) if (Number.isInteger(n) && n >= 1 && n <= count && typeof text === 'string') all[n - 1] = text;
    out[file] = all.join('\n');
  }
  return out;
}
