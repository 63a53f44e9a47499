// The quotes and flow brackets ([ ], { }) a file opens and never closes, found in the yaml
// library's token tree, for the explanation of an error about a missing closing character.
import { Parser } from 'yaml';

/** A quote or flow bracket the yaml library's token tree never saw closed. */
export interface Unclosed {
  readonly kind: 'quote' | 'flow';
  readonly offset: number;
  readonly open: string;
  readonly close: string;
}

/** Quoted scalars and flow collections without their closing character, in source order. */
export function unclosedTokens(text: string): Unclosed[] {
  const found: Unclosed[] = [];
  const todo: unknown[] = [...new Parser().parse(text)];
  while (todo.length > 0) {
    const t = todo.pop();
    if (t === null || typeof t !== 'object') continue;
    if (Array.isArray(t)) {
      todo.push(...t);
      continue;
    }
    const tok = t as { type?: string; offset?: number; source?: string; start?: { source?: string; offset?: number }; end?: unknown };
    if ((tok.type === 'double-quoted-scalar' || tok.type === 'single-quoted-scalar') && typeof tok.source === 'string') {
      if (!quoteClosed(tok.source)) found.push({ kind: 'quote', offset: tok.offset!, open: tok.source[0]!, close: tok.source[0]! });
    } else if (tok.type === 'flow-collection' && tok.start && Array.isArray(tok.end)) {
      const closed = (tok.end as { type?: string }[]).some((x) => x.type === 'flow-seq-end' || x.type === 'flow-map-end');
      const open = tok.start.source ?? '[';
      if (!closed) found.push({ kind: 'flow', offset: tok.start.offset ?? tok.offset!, open, close: open === '{' ? '}' : ']' });
    }
    for (const v of Object.values(t)) if (v !== null && typeof v === 'object') todo.push(v);
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/** The last of `list` (sorted by offset) before `bound` that `ok` accepts. */
export function lastBefore(list: readonly Unclosed[], bound: number, ok: (u: Unclosed) => boolean): Unclosed | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.offset < bound) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0; i--) if (ok(list[i]!)) return list[i];
  return undefined;
}

function quoteClosed(source: string): boolean {
  const q = source[0];
  const body = source.slice(1);
  if (q === "'") return (/'*$/.exec(body)![0].length & 1) === 1;
  if (!body.endsWith('"')) return false;
  return (/\\*$/.exec(body.slice(0, -1))![0].length & 1) === 0;
}
