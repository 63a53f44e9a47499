// Printing diagnostics: the human form (file:line:col, severity, code, message, a code frame
// with a caret, the hint) and the JSON form. Colour only here, and only when asked for.
import type { Diagnostic } from './types.ts';

/** Formatting options. */
export interface FormatOptions {
  /** Use ANSI colours (the CLI decides from the TTY, NO_COLOR and --no-color). */
  readonly color?: boolean;
  /** Source texts by displayed file path, for code frames. */
  readonly sources?: Readonly<Record<string, string>>;
  /** Include internal details (stack traces). */
  readonly debug?: boolean;
}

const ansi = (on: boolean) => (code: string, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

/**
 * A text as the terminal may be given it: each control character (C0 but tab and newline, DEL, C1)
 * and each bidirectional override written as `\x1b`, `\u202e`. A message or hint quotes values
 * from the inventory, and a code frame shows its lines; none of them may move the cursor, clear the
 * screen or reorder what is shown. The colours above are added after.
 */
export function escapeControls(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Human-readable diagnostics, one block each, separated by blank lines. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], options: FormatOptions = {}): string {
  const paint = ansi(options.color === true);
  return diagnostics
    .map((d) => {
      const where = d.file ? `${escapeControls(d.file)}${d.line !== undefined ? `:${d.line}:${d.col ?? 1}` : ''}` : 'harvgen';
      const sev = d.severity === 'error' ? paint('31;1', 'error') : paint('33;1', 'warning');
      const lines = [`${paint('1', where)}  ${sev}  ${paint('2', d.code)}  ${escapeControls(d.message)}`];
      const text = d.file !== undefined ? options.sources?.[d.file] : undefined;
      if (text !== undefined && d.line !== undefined) lines.push(...codeFrame(text, d, paint));
      if (d.hint) lines.push(`  ${paint('36', 'hint:')} ${escapeControls(d.hint)}`);
      if (options.debug && d.detail) lines.push(...d.detail.split('\n').map((l) => `  ${escapeControls(l)}`));
      return lines.join('\n');
    })
    .join('\n\n');
}

function codeFrame(text: string, d: Diagnostic, paint: (c: string, s: string) => string): string[] {
  const all = text.split(/\r?\n/);
  const line = d.line!;
  const from = Math.max(1, line - 1);
  const to = Math.min(all.length, line + 1);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const raw = (all[n - 1] ?? '').replace(/\t/g, ' ');
    // Cut at 160 characters as written, then written out: an escape is never cut in two.
    const src = raw.length > 160 ? `${escapeControls(raw.slice(0, 160))}…` : escapeControls(raw);
    const gutter = `${n === line ? '>' : ' '} ${String(n).padStart(width)} | `;
    out.push(`  ${n === line ? paint('31;1', gutter) : paint('2', gutter)}${src}`);
    if (n === line) {
      const col = Math.max(1, d.col ?? 1);
      const endCol = d.endLine === line && d.endCol !== undefined && d.endCol > col ? d.endCol : col + 1;
      // A masked secret (`***`, see src/load/mask.ts) is underlined whole, whatever the length of the value it hides.
      const masked = raw.startsWith('***', col - 1);
      const len = masked ? 3 : Math.max(1, Math.min(endCol - col, raw.length - col + 1, 80));
      // Under the characters as printed: one written as an escape is wider.
      const at = escapeControls(raw.slice(0, col - 1)).length + Math.max(0, col - 1 - raw.length);
      const wide = Math.min(80, Math.max(len, escapeControls(raw.slice(col - 1, col - 1 + len)).length));
      out.push(`  ${' '.repeat(width + 2)} ${paint('2', '|')} ${' '.repeat(at)}${paint('31;1', '^'.repeat(masked ? 3 : wide))}`);
    }
  }
  return out;
}

/** Counts for the summary line. */
export function countDiagnostics(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  return {
    errors: diagnostics.filter((d) => d.severity === 'error').length,
    warnings: diagnostics.filter((d) => d.severity === 'warning').length,
  };
}

/** Machine-readable diagnostics (stable key order, no internal details unless debug). */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
