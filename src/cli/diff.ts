// A unified diff of two texts (`diff -u`, `git diff`): what `build --diff` prints for each changed
// text file. Lines are compared with their line ends, so a missing final newline is a change and
// is marked `\ No newline at end of file`, as diff and git do; `patch -p1` applies the output.
// Myers' O(ND) algorithm after trimming the common head and tail (the usual change to a generated
// file is a few lines); past MAX_EDIT_DISTANCE differences the changed middle is shown as removed
// and added whole instead of being searched further.

/** Options of unifiedDiff. */
export interface DiffOptions {
  /** Header names: `--- <from>` and `+++ <to>` (use `/dev/null` for a file that is not there). */
  readonly from: string;
  readonly to: string;
  /** Unchanged lines shown around each change (default 3). */
  readonly context?: number;
}

/** Differences searched for before giving up on a minimal diff (keeps time and memory bounded). */
export const MAX_EDIT_DISTANCE = 2000;

/** The text's lines, each with its line end (the last one may have none). */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

type Op = { readonly kind: ' ' | '-' | '+'; readonly line: string };

/** A unified diff from `a` to `b`; '' when they are equal. */
export function unifiedDiff(a: string, b: string, options: DiffOptions): string {
  if (a === b) return '';
  const ops = diffLines(splitLines(a), splitLines(b));
  const context = options.context ?? 3;
  const out = [`--- ${options.from}`, `+++ ${options.to}`];
  // Line numbers before each op (1-based), to label the hunks.
  const aLine: number[] = [];
  const bLine: number[] = [];
  let i = 1;
  let j = 1;
  for (const op of ops) {
    aLine.push(i);
    bLine.push(j);
    if (op.kind !== '+') i++;
    if (op.kind !== '-') j++;
  }
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k]!.kind === ' ') k++;
    if (k === ops.length) break;
    // A hunk: from `context` lines before this change to `context` lines after the last change
    // that is at most 2 * context unchanged lines from the next.
    const start = Math.max(0, k - context);
    let end = k;
    for (;;) {
      while (end < ops.length && ops[end]!.kind !== ' ') end++;
      let gap = end;
      while (gap < ops.length && ops[gap]!.kind === ' ') gap++;
      if (gap < ops.length && gap - end <= 2 * context) end = gap;
      else {
        end = Math.min(ops.length, end + context);
        break;
      }
    }
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((o) => o.kind !== '+').length;
    const bCount = hunk.filter((o) => o.kind !== '-').length;
    // An empty side starts at the line before (0 at the top), as diff writes it.
    const aStart = aCount === 0 ? aLine[start]! - 1 : aLine[start]!;
    const bStart = bCount === 0 ? bLine[start]! - 1 : bLine[start]!;
    const range = (s: number, n: number) => (n === 1 ? `${s}` : `${s},${n}`);
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const op of hunk) {
      const eol = op.line.endsWith('\n');
      out.push(op.kind + (eol ? op.line.slice(0, -1) : op.line));
      if (!eol) out.push('\\ No newline at end of file');
    }
    k = end;
  }
  return out.join('\n') + '\n';
}

/** The edit script from `a` to `b`: unchanged, removed and added lines in order. */
export function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const same = (lines: readonly string[]): Op[] => lines.map((line) => ({ kind: ' ', line }));
  const middle = myers(a.slice(head, a.length - tail), b.slice(head, b.length - tail));
  return [...same(a.slice(0, head)), ...middle, ...same(a.slice(a.length - tail))];
}

/** Myers' greedy shortest edit script (removals before additions within a change). */
function myers(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const whole = (): Op[] => [...a.map((line) => ({ kind: '-' as const, line })), ...b.map((line) => ({ kind: '+' as const, line }))];
  if (n === 0 || m === 0) return whole();
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  let v: Int32Array = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return whole();
  // Walk back through the saved frontiers.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    v = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = v[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[--x]! });
      y--;
    }
    if (down) ops.push({ kind: '+', line: b[--y]! });
    else ops.push({ kind: '-', line: a[--x]! });
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: ' ', line: a[--x]! });
    y--;
  }
  ops.reverse();
  return groupChanges(ops);
}

/** Within each run of changes, removals first, then additions (as diff and git print them). */
function groupChanges(ops: Op[]): Op[] {
  const out: Op[] = [];
  let removed: Op[] = [];
  let added: Op[] = [];
  const flush = () => {
    out.push(...removed, ...added);
    removed = [];
    added = [];
  };
  for (const op of ops) {
    if (op.kind === '-') removed.push(op);
    else if (op.kind === '+') added.push(op);
    else {
      flush();
      out.push(op);
    }
  }
  flush();
  return out;
}
