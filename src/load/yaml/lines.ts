// Reading the lines of a YAML text as written, for the explanations of its errors: which lines
// hold content, a line split into its `- ` indicators, key and value, and a piece of a line
// quoted in a message.

export function isContent(line: string | undefined): boolean {
  const t = line?.trim();
  return t !== undefined && t !== '' && !t.startsWith('#');
}

/** The first line at or after `line` with content (not blank, not a comment). */
export function nextContentLine(lines: readonly string[], line: number): number {
  for (let n = line; n <= lines.length; n++) if (isContent(lines[n - 1])) return n;
  return lines.length;
}

export function previousContentLine(lines: readonly string[], line: number): number {
  for (let n = line - 1; n >= 1; n--) if (isContent(lines[n - 1])) return n;
  return 0;
}

/** One line, split into its `- ` indicators, key and value. */
export interface LineParts {
  readonly dashes: number[];
  /** Column where the content after the indentation and the dashes starts. */
  readonly bodyCol: number;
  readonly body: string;
  readonly key?: string;
  readonly value: string;
}

export function splitLine(raw: string, indent: number): LineParts {
  let p = indent;
  const dashes: number[] = [];
  while (raw[p] === '-' && (p + 1 === raw.length || raw[p + 1] === ' ' || raw[p + 1] === '\t')) {
    dashes.push(p + 1);
    p++;
    while (raw[p] === ' ' || raw[p] === '\t') p++;
  }
  // Anchors and tags before a key (`&base key: v`) are not part of it.
  const props = /^(?:[&!]\S*[ \t]+)*/.exec(raw.slice(p))![0];
  const body = raw.slice(p + props.length);
  const k = keyOf(body);
  return {
    dashes,
    bodyCol: p + props.length + 1,
    body,
    ...(k ? { key: k.name } : {}),
    value: k ? body.slice(k.valueAt) : body,
  };
}

/** The key of a `key: value` line (plain or quoted), or nothing. */
function keyOf(body: string): { name: string; valueAt: number } | undefined {
  const q = body[0];
  if (q === '"' || q === "'") {
    let j = 1;
    while (j < body.length) {
      if (q === '"' && body[j] === '\\') j += 2;
      else if (body[j] === q && q === "'" && body[j + 1] === "'") j += 2;
      else if (body[j] === q) break;
      else j++;
    }
    if (j >= body.length) return undefined;
    let k = j + 1;
    while (body[k] === ' ' || body[k] === '\t') k++;
    return body[k] === ':' && /^(?:\s|$)/.test(body.slice(k + 1, k + 2)) ? { name: body.slice(0, j + 1), valueAt: k + 1 } : undefined;
  }
  if (/^[[\]{},#&*!|>%@`]/.test(body) || /^[?:-](?:\s|$)/.test(body)) return undefined;
  for (let j = 0; j < body.length; j++) {
    if (body[j] === '#' && j > 0 && /\s/.test(body[j - 1]!)) return undefined;
    if (body[j] === ':' && (j + 1 === body.length || body[j + 1] === ' ' || body[j + 1] === '\t')) {
      const name = body.slice(0, j).trimEnd();
      return name ? { name, valueAt: j + 1 } : undefined;
    }
  }
  return undefined;
}

/** A piece of a line in a message: in backticks, cut after 40 characters. */
export const code = (s: string) => `\`${s.length > 40 ? s.slice(0, 40) + '…' : s}\``;
