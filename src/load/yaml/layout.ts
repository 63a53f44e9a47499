// The indentation layout of a YAML text: every line that breaks the layout of the lines above it
// (a key missing its colon, a line indented more or less than any level it could belong to, a
// list item among keys), each with a message and a hint, for explain.ts.
import { code, isContent, splitLine, type LineParts } from './lines.ts';

/** One line that breaks the layout of the lines above it. */
export interface Anomaly {
  readonly line: number;
  readonly col: number;
  readonly endCol?: number;
  readonly message: string;
  readonly hint: string;
  /** The column the line most likely belongs at: the scan goes on as if it were there. */
  readonly target?: number;
}

/** An open indentation level: a mapping (keys at `col`) or a list (`-` at `col`). */
interface Level {
  readonly col: number;
  readonly kind: 'map' | 'seq';
  /** The line that opened the level. */
  readonly line: number;
  /** Items of a list so far. */
  items?: number;
  key?: string;
  /** A plain line without `key:` that opened this level: a key missing its colon, unless the block ends here. */
  bare?: { readonly line: number; readonly body: string; readonly col: number };
}

/** The last line's value: `open` (nothing after `key:` or `- `), a plain `scalar`, or `closed` (quoted, flow, block). */
interface Prev {
  readonly kind: 'open' | 'scalar' | 'closed';
  /** Column of the key (or `-`) that owns the value. */
  readonly col: number;
  readonly isKey: boolean;
  readonly key?: string;
  readonly value: string;
  readonly line: number;
  /** The line's content after its indentation and `- `, and where that starts. */
  readonly body: string;
  readonly bodyCol: number;
}

/** Flow brackets and quotes still open after a piece of text. */
interface FlowState {
  depth: number;
  quote: '' | '"' | "'";
}

/** Feed one line to a flow collection or quoted scalar; true when it is closed by the end of the line. */
function feed(state: FlowState, s: string): boolean {
  for (let j = 0; j < s.length; j++) {
    const ch = s[j]!;
    if (state.quote === '"') {
      if (ch === '\\') j++;
      else if (ch === '"') state.quote = '';
    } else if (state.quote === "'") {
      if (ch === "'" && s[j + 1] === "'") j++;
      else if (ch === "'") state.quote = '';
    } else if (ch === '#' && (j === 0 || /\s/.test(s[j - 1]!))) {
      break;
    } else if ((ch === '"' || ch === "'") && (j === 0 || /[\s[{,:]/.test(s[j - 1]!))) {
      state.quote = ch;
    } else if (ch === '[' || ch === '{') {
      state.depth++;
    } else if ((ch === ']' || ch === '}') && state.depth > 0) {
      state.depth--;
      if (state.depth === 0 && state.quote === '') return true;
    }
  }
  return state.depth === 0 && state.quote === '';
}

/** Where the scan stands: the open levels, the line before, and what is being skipped. */
interface ScanState {
  stack: Level[];
  prev: Prev;
  skip: { kind: 'block'; col: number } | { kind: 'flow'; state: FlowState } | undefined;
  /** The last line judged (an anomaly right after another is not reported). */
  lastLine: number;
  readonly out: Anomaly[];
}

/** One content line being judged. */
interface LineCtx {
  readonly n: number;
  /** 1-based column of the line's first character. */
  readonly c: number;
  readonly parts: LineParts;
  readonly isDash: boolean;
  /** The line's first word: `-`, its key, or its first token. */
  readonly word: string;
  readonly span: { line: number; col: number; endCol: number };
}

const START: Prev = { kind: 'open', col: 0, isKey: false, value: '', line: 0, body: '', bodyCol: 1 };

/**
 * Every line that breaks the indentation layout of the lines above it. Block scalars, quoted
 * strings and flow collections over several lines are skipped; lines indented with tabs are the
 * tab error's.
 */
export function layoutAnomalies(lines: readonly string[]): Anomaly[] {
  const state: ScanState = { stack: [], prev: START, skip: undefined, lastLine: 0, out: [] };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const n = i + 1;
    const indent = raw.length - raw.trimStart().length;
    if (skipsLine(state, raw, n, indent)) continue;
    const c = indent + 1;
    const parts = splitLine(raw, indent);
    const isDash = parts.dashes.length > 0;
    const word = isDash ? '-' : (parts.key ?? /^\S*/.exec(parts.body)![0]);
    const line: LineCtx = { n, c, parts, isDash, word, span: { line: n, col: c, endCol: c + Math.max(1, word.length) } };
    const anomaly = judgeLine(state, line);
    if (anomaly === 'continued') continue;
    // A line right after a wrong one is judged against it: say nothing about it.
    if (anomaly && state.out[state.out.length - 1]?.line !== state.lastLine) state.out.push(anomaly);
    state.lastLine = n;
    takeLevels(state, line, anomaly);
    state.prev = lineValue(state, line);
  }
  return state.out;
}

/** Lines the layout says nothing about: inside a block scalar or flow collection, blank, comments, directives, document markers, tabs. */
function skipsLine(state: ScanState, raw: string, n: number, indent: number): boolean {
  const skip = state.skip;
  if (skip?.kind === 'block') {
    if (raw.trim() === '' || indent + 1 > skip.col) return true;
    state.skip = undefined;
  } else if (skip?.kind === 'flow') {
    if (feed(skip.state, raw)) state.skip = undefined;
    return true;
  }
  if (!isContent(raw) || raw.startsWith('%')) return true;
  if (/^(?:---|\.\.\.)(?:\s|$)/.test(raw)) {
    state.stack = [];
    state.prev = { ...START, line: n };
    return true;
  }
  return /^ *\t/.test(raw);
}

/** The anomaly of one line against the levels above it; `continued` for a plain value going on over lines. */
function judgeLine(state: ScanState, line: LineCtx): Anomaly | undefined | 'continued' {
  const { stack, prev } = state;
  const { c, parts, isDash, word, span } = line;
  const popped: Level[] = [];
  while (stack.length > 0 && stack[stack.length - 1]!.col > c) popped.push(stack.pop()!);
  const top = stack[stack.length - 1];
  if (top && top.col === c) {
    if (!isDash) return keyAtLevel(state, line, top, popped);
    return top.kind === 'map' ? dashAtKeyColumn(state, line, top, popped) : undefined;
  }
  if (popped.length > 0) return misaligned(span, parts, word, popped, top);
  if (!top || prev.kind === 'open') return undefined;
  // Deeper than the line above, whose key or `-` already has a value on its line.
  if (prev.kind === 'scalar' && !isDash && parts.key === undefined) return 'continued';
  if (top.bare && top.bare.line === prev.line) return missingColon(top.bare);
  if (!prev.isKey && prev.kind === 'scalar' && c === prev.bodyCol && /^[A-Za-z_][\w.-]*(?:[ \t]+[^\s#]|:\S)/.test(prev.body)) {
    // `- hostname hv-1` and then `  mac: ...` under it: the item's first key lacks its colon.
    return missingColon({ line: prev.line, body: prev.body, col: prev.bodyCol });
  }
  return indentedMore(span, word, prev);
}

/**
 * A `- ` item at the column of a mapping's keys. After `key:` with nothing on its line it is the
 * key's list (valid). Otherwise the fix depends on what is around it: a list it was meant to
 * continue (it is dedented), a key above it waiting for its items, the list of the item it sits
 * in, or a key that already has a value; only when none fits is the `- ` itself the mistake.
 */
function dashAtKeyColumn(state: ScanState, line: LineCtx, top: Level, popped: readonly Level[]): Anomaly | undefined {
  const { prev, stack } = state;
  const { c, parts, span } = line;
  if (top.bare) return missingColon(top.bare);
  if (prev.kind === 'open' && prev.isKey && prev.col === c) return undefined;
  const list = popped.filter((l) => l.kind === 'seq').pop();
  if (list && top.key) {
    return {
      ...span,
      message: `this list item is indented less than the items of ${code(top.key)} above it (their \`-\` is at column ${list.col}, this one at column ${c}), so YAML reads it as part of the mapping, not of the list`,
      hint: `Indent it under ${code(top.key)}: move the \`-\` to column ${list.col}, like the other items of the list (line ${list.line}).`,
      target: list.col,
    };
  }
  if (prev.kind === 'open' && prev.isKey && prev.key !== undefined && prev.col > c) {
    return {
      ...span,
      message: `this list item is indented less than ${code(prev.key)} on line ${prev.line}, the key it follows, so it is not in that key's list`,
      hint: `Indent it under ${code(prev.key)}: move the \`-\` to column ${prev.col + 2} (a list goes under its key, indented more than the key).`,
      target: prev.col,
    };
  }
  const below = stack[stack.length - 2];
  if (parts.key !== undefined && below?.kind === 'seq' && below.col < c) {
    return {
      ...span,
      message: `this list item is at the column of the keys of the item above it (column ${c}), not at the column of its list's \`-\` (column ${below.col})`,
      hint: `Move the \`-\` to column ${below.col} to make it the next item of the list, like the item on line ${below.line}.`,
      target: below.col,
    };
  }
  if (parts.key === undefined && prev.isKey && prev.kind === 'scalar' && prev.key !== undefined && prev.col === c) {
    return {
      ...span,
      message: `a list item (\`- \`) after ${code(`${prev.key}: ${prev.value.replace(/\s+#.*$/, '')}`)}, a key that already has its value, so it cannot hold a list`,
      hint: `To make ${code(prev.key)} a list, leave nothing after ${code(`${prev.key}:`)} and put every item on its own \`- \` line under it, indented more than the key (line ${prev.line}); if this line is not meant to be a list item, remove the \`- \`.`,
    };
  }
  // `key:` then `- item` at the key's own column is a list under that key; after a key with a
  // value it is a list item in the middle of the mapping.
  return {
    ...span,
    message: `a list item (\`- \`) in the middle of a mapping: the lines above it at this column are \`key: value\` lines${top.key ? ` (${code(top.key)})` : ''}`,
    hint: `Remove the \`- \`${parts.key ? ` to make ${code(parts.key)} a key like ${top.key ? code(top.key) : 'the others'}` : ''}. A list needs a key of its own: \`name:\` on the line above it and the \`- \` items under it.`,
  };
}

/** A line without `- ` at the column of an open level: a key of that mapping, or a line that breaks a list. */
function keyAtLevel(state: ScanState, line: LineCtx, level: Level, popped: readonly Level[]): Anomaly | undefined {
  const { stack } = state;
  const { n, c, parts, word, span } = line;
  let top = level;
  const below = stack[stack.length - 2];
  if (top.kind === 'seq' && below?.kind === 'map' && below.col === c) {
    // A list at its key's column ends at the next key of that mapping.
    stack.pop();
    top = below;
  }
  if (top.kind === 'seq' && stack.length === 1 && top.items === 1) {
    // The file starts with one `- ` item and goes on with keys: the `- ` is the mistake.
    const item = popped.filter((l) => l.kind === 'map').pop();
    return {
      line: top.line,
      col: top.col,
      endCol: top.col + 1,
      message: 'a list item (`- `) among the top-level keys: the lines after it at this column are `key: value` lines',
      hint: `Remove the \`- \`${item?.key ? ` to make ${code(item.key)} a top-level key like ${code(word)}` : ''}; the top level of an inventory file is a mapping.`,
    };
  }
  if (top.kind === 'seq') {
    const item = popped.filter((l) => l.kind === 'map').pop();
    return {
      ...span,
      message: item?.key
        ? `this line is indented less than the key above it (${code(item.key)} at column ${item.col}): it lines up with the \`-\` of the list (column ${c}), not with the keys of the list item`
        : `a line without \`- \` in the middle of a list (the \`-\` of the items above it are at column ${c})`,
      hint: !item?.key
        ? `Start it with \`- \` like the other items of the list.`
        : top.items === 1
          ? `Remove the \`- \` on line ${top.line} if ${below?.key ? code(below.key) : 'it'} holds keys, not a list; or indent ${code(word)} to column ${item.col} to put it in the list item with ${code(item.key)}.`
          : `Indent ${code(word)} to column ${item.col} to put it in the list item with ${code(item.key)}, or start it with \`- \` to make it a new list item.`,
    };
  }
  if (top.bare) return missingColon(top.bare);
  if (parts.key === undefined) return missingColon({ line: n, body: parts.body, col: parts.bodyCol });
  return undefined;
}

/** Take the line's levels in (a misplaced line where it most likely belongs, so that the lines after it are not all reported too). */
function takeLevels(state: ScanState, line: LineCtx, anomaly: Anomaly | undefined): void {
  const { stack } = state;
  const { n, c, parts, isDash } = line;
  const shift = anomaly?.target !== undefined ? anomaly.target - c : 0;
  while (stack.length > 0 && stack[stack.length - 1]!.col > c + shift) stack.pop();
  for (const d of parts.dashes) {
    const t = stack[stack.length - 1];
    if (t && t.col === d + shift && t.kind === 'seq') t.items = (t.items ?? 0) + 1;
    else stack.push({ col: d + shift, kind: 'seq', line: n, items: 1 });
  }
  const value = lineValueText(parts);
  const t = stack[stack.length - 1];
  if (parts.key !== undefined) {
    if (t && t.col === parts.bodyCol + shift && t.kind === 'map') {
      t.key = parts.key;
      delete t.bare;
    } else stack.push({ col: parts.bodyCol + shift, kind: 'map', line: n, key: parts.key });
  } else if (!isDash && !(t && t.col === c + shift) && /^[^[{"'|>*#]/.test(value)) {
    stack.push({ col: c + shift, kind: 'map', line: n, bare: { line: n, body: parts.body, col: parts.bodyCol } });
  }
}

/** The value after the line's key or `- `, without anchors and tags. */
function lineValueText(parts: LineParts): string {
  return parts.value.trim().replace(/^(?:[&!]\S*\s*)*/, '');
}

/** What the line leaves for the next one: its value's kind (starting a skip for block scalars and open flow collections). */
function lineValue(state: ScanState, line: LineCtx): Prev {
  const { n, c, parts, isDash } = line;
  const value = lineValueText(parts);
  const owner = parts.key !== undefined ? parts.bodyCol : isDash ? parts.dashes[parts.dashes.length - 1]! : c;
  let kind: Prev['kind'] = 'scalar';
  if (value === '' || value.startsWith('#')) kind = 'open';
  else if (value[0] === '|' || value[0] === '>') {
    kind = 'closed';
    state.skip = { kind: 'block', col: owner };
  } else if (/^["'[{]/.test(value)) {
    kind = 'closed';
    const flow: FlowState = { depth: 0, quote: '' };
    if (!feed(flow, value)) state.skip = { kind: 'flow', state: flow };
  } else if (value[0] === '*') kind = 'closed';
  return {
    kind,
    col: owner,
    isKey: parts.key !== undefined,
    ...(parts.key !== undefined ? { key: parts.key } : {}),
    value,
    line: n,
    body: parts.body,
    bodyCol: parts.bodyCol,
  };
}

/** A line in a mapping without `key: value`: a missing colon, or a colon without the space after it. */
function missingColon(bare: { line: number; body: string; col: number }): Anomaly {
  const word = /^\S*/.exec(bare.body)![0];
  const rest = bare.body
    .slice(word.length)
    .trim()
    .replace(/\s+#.*$/, '');
  const colon = word.indexOf(':');
  if (colon > 0 && colon < word.length - 1) {
    const fixed = `${word.slice(0, colon + 1)} ${word.slice(colon + 1)}${rest ? ` ${rest}` : ''}`;
    return {
      line: bare.line,
      col: bare.col + colon + 1,
      message: `no space after the \`:\` in ${code(word)}: YAML reads it as one string, not as a key and its value`,
      hint: `Put a space after the colon: ${code(fixed)}.`,
    };
  }
  return {
    line: bare.line,
    col: bare.col + word.length,
    message: `missing \`:\` after the key ${code(word)}?`,
    hint: `Write ${code(`${word}:${rest ? ` ${rest}` : ''}`)}: a key is followed by a colon and a space, like the other keys of this mapping.`,
  };
}

/** A line deeper than the line above, whose key (or `-`) already has its value. */
function indentedMore(span: { line: number; col: number; endCol: number }, word: string, prev: Prev): Anomaly {
  const shown = prev.value.replace(/\s+#.*$/, '');
  if (prev.isKey && prev.key !== undefined) {
    return {
      ...span,
      message: `this line is indented more than the key above it (${code(prev.key)} on line ${prev.line})`,
      hint: `Indent ${code(word)} to column ${prev.col} like ${code(prev.key)} to make it the next key. ${code(prev.key)} already has a value (${code(shown)}), so nothing can be nested under it.`,
    };
  }
  return {
    ...span,
    message: `this line is indented more than the list item above it (line ${prev.line})`,
    hint: `Line it up with the lines above it; the item above already has its value (${code(shown)}), so nothing can be nested under it.`,
  };
}

/** A line whose indentation matches none of the levels it could belong to. */
function misaligned(
  span: { line: number; col: number; endCol: number },
  parts: LineParts,
  word: string,
  popped: readonly Level[],
  below: Level | undefined,
): Anomaly {
  const levels = below ? [...popped, below] : [...popped];
  if (parts.dashes.length > 0) {
    const seq = levels.filter((l) => l.kind === 'seq').sort((a, b) => Math.abs(a.col - span.col) - Math.abs(b.col - span.col))[0];
    if (seq) {
      return {
        ...span,
        message: `this list item is not lined up with the items above it: their \`-\` is at column ${seq.col}, this one at column ${span.col}`,
        hint: `Move the \`-\` to column ${seq.col}, like the other items of the list.`,
        target: seq.col,
      };
    }
  }
  const above = popped[popped.length - 1]!;
  if (!below && above.kind === 'map' && above.key) {
    const first = popped[0]!.kind === 'map' ? popped[popped.length - 1]! : above;
    return {
      ...span,
      message: `this line is indented less than ${code(first.key ?? above.key)} on line ${first.line}, the first key of the file: the top-level keys must all start at the same column`,
      hint: `Start every top-level key at column ${span.col}: ${code(first.key ?? above.key)} on line ${first.line} is indented by ${first.col - 1}.`,
    };
  }
  const name = (l: Level) => (l.kind === 'map' && l.key ? `the key ${code(l.key)}` : 'the `-` of the list item');
  const inner = popped.filter((l) => l.kind === 'map' && l.key).pop();
  const outer = below?.kind === 'map' && below.key ? below : undefined;
  const options = [
    ...(inner ? [`to column ${inner.col} to put it next to ${code(inner.key!)}`] : []),
    ...(outer ? [`to column ${outer.col} to put it next to ${code(outer.key!)}`] : []),
  ];
  return {
    ...span,
    message: `this line is indented less than ${name(above)} above it (column ${above.col})${below ? ` but more than ${name(below)} (column ${below.col})` : ''}, so it belongs to neither`,
    hint: options.length > 0 ? `Indent ${code(word)} ${options.join(', or ')}.` : 'Line it up with the lines it belongs with.',
  };
}
