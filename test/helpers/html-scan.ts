// A strict reader of the report's HTML for the unit tests: tags, attributes and text into a tree,
// refusing what the report never writes (a stray `<`, an unclosed or misnested element, an
// unquoted attribute). The real browser reads the same pages in test/real/report-browser.test.ts.

export interface El {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: (El | string)[];
}

const VOID = new Set(['meta', 'br', 'input', 'img', 'link', 'hr']);
const RAW = new Set(['style', 'script']);
const TOKEN =
  /<!--[\s\S]*?-->|<!DOCTYPE html>|<\/([a-zA-Z0-9]+)\s*>|<([a-zA-Z0-9]+)((?:\s+[a-zA-Z][a-zA-Z0-9-]*(?:="[^"<]*")?)*)\s*(\/?)>|[^<]+/gy;

function decode(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, '&');
}

function attrsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([a-zA-Z][a-zA-Z0-9-]*)(?:="([^"]*)")?/g)) out[m[1]!] = decode(m[2] ?? '');
  return out;
}

/** The document's tree (a root element `#document`); throws on anything malformed. */
export function parseHtml(text: string): El {
  const root: El = { tag: '#document', attrs: {}, children: [] };
  const stack: El[] = [root];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`malformed HTML at ${at}: ${JSON.stringify(text.slice(at, at + 40))}`);
    const top = stack[stack.length - 1]!;
    if (m[1] !== undefined) {
      if (top.tag !== m[1]) throw new Error(`</${m[1]}> closes <${top.tag}> at ${at}`);
      stack.pop();
    } else if (m[2] !== undefined) {
      const el: El = { tag: m[2], attrs: attrsOf(m[3] ?? ''), children: [] };
      top.children.push(el);
      if (RAW.has(el.tag)) {
        const end = text.indexOf(`</${el.tag}>`, TOKEN.lastIndex);
        if (end < 0) throw new Error(`<${el.tag}> is not closed`);
        el.children.push(text.slice(TOKEN.lastIndex, end));
        TOKEN.lastIndex = end + el.tag.length + 3;
      } else if (!VOID.has(el.tag) && m[4] !== '/') stack.push(el);
    } else if (!m[0].startsWith('<')) top.children.push(decode(m[0]));
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1]!.tag}> is not closed`);
  return root;
}

/** Every element under `el` (depth first) that `pick` accepts. */
export function findAll(el: El, pick: (e: El) => boolean): El[] {
  const out: El[] = [];
  const walk = (e: El) => {
    for (const c of e.children)
      if (typeof c !== 'string') {
        if (pick(c)) out.push(c);
        walk(c);
      }
  };
  walk(el);
  return out;
}

/** The text of an element, as a browser's textContent. */
export function textOf(el: El): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}
