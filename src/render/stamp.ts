// Stamping: a per-node template rendered once per family of nodes, then filled per node. The nodes
// of a site fall into a few families (the same release, role, boot server, retries...) that differ
// only in a few values (hostname, MAC, the kernel arguments that carry its address). A template
// declares those values as its holes (STAMPED). For each family, keyed by every other value of
// the template's data, it is rendered once with a sentinel in each hole; each escaper that meets
// a sentinel writes a mark and records itself with its other arguments. The text is cut at the
// marks into literal pieces, and a node of the family is its pieces joined with its own values,
// each through the escaper recorded for that place: the same escaper, with the same arguments, as
// a render of the node would call there, so that the bytes are the same and no value can change
// a file's structure.
//
// What makes that sound: a hole reaches the template only as the first argument of an escaper
// (checkHoles reads the template's code and refuses anything else: a condition, a comparison, a
// concatenation on a hole); every other value, the types of the holes and the lengths of list
// holes are in the family's key. A family whose render shows a sentinel anywhere but through an
// escaper, or whose text would be checked strictly (it holds `undefined`), is rendered plainly,
// node by node. test/stamp.test.ts and test/fast-path.test.ts (which renders every fixture
// without stamping) compare the two.
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { escapers } from '../formats/escape.ts';
import { familyData, familyHash, sameFamily, type FamilyData } from './family.ts';

/**
 * A template's holes: fields of its data holding a string or number (`values`), a list of them
 * (`lists`: each element a hole), or a list of records with some fields holes (`records`).
 */
export interface StampHoles {
  readonly values: readonly string[];
  readonly lists: readonly string[];
  readonly records?: Readonly<Record<string, readonly string[]>>;
}

/** The templates rendered by stamping, and their holes (a declaration: test/stamp.test.ts checks each). */
export const STAMPED: Readonly<Record<string, StampHoles>> = {
  'node-install.ipxe': { values: ['hostname', 'mac', 'configUrl'], lists: ['kernelArgs'], records: { served: ['url'] } },
  'node-iscsi.ipxe': { values: ['hostname', 'mac', 'initiator', 'target', 'rootPath'], lists: [] },
};

type Escapers = typeof escapers;
type Escaper = (value: unknown, ...rest: unknown[]) => string;

/** One place of a stamp: the hole (a field, its element for a list, the element's field for a record), the escaper and its other arguments. */
interface Use {
  readonly field: string;
  readonly index: number;
  readonly sub: string | undefined;
  readonly fn: Escaper;
  readonly rest: readonly unknown[];
}

/** A family's template: literal pieces around its uses (pieces.length = uses.length + 1). */
interface Stamp {
  readonly pieces: readonly string[];
  readonly uses: readonly Use[];
  /**
   * The value last filled in at each use and its escaped text: a node's value equal to the one
   * filled before it (by Object.is) takes the same text, as an escaper is a function of its
   * arguments alone (most of a family's kernel arguments are its nodes' alike).
   */
  readonly lastValue: unknown[];
  readonly lastText: string[];
}

/** No value filled in yet (no inventory value is this object). */
const NOTHING = Object.freeze({});

/** How a stamped template is rendered: with data and the escapers it calls as `it.esc`; plainly; its source text. */
export interface Rendering {
  readonly renderWith: (data: object, esc: Escapers) => string;
  readonly plain: () => string;
  readonly source: () => string;
  /** The template's file: two copies of harvgen in one process keep their families apart. */
  readonly file: string;
}

/** Families kept per template; past this, the kept ones are dropped and made again as nodes need them. */
const MAX_FAMILIES = 512;
/** After this many families were made for a template with fewer nodes served than families, stamping is off for it. */
const TRIAL = 64;

/** One template's families and how well they serve. */
interface Book {
  /** By familyHash: each family's data and stamp (null: rendered plainly). */
  readonly families: Map<number, { readonly family: FamilyData; readonly stamp: Stamp | null }[]>;
  /** Families kept. */
  size: number;
  made: number;
  served: number;
  off: boolean;
}

/** By template file, process-wide: a test loader may load this module twice (the build's instance and the test's share the families). */
const BOOKS = Symbol.for('harvgen.stampBooks');
const books: Map<string, Book> = ((globalThis as { [BOOKS]?: Map<string, Book> })[BOOKS] ??= new Map());
/** The process's sentinel nonce: no inventory value can spell a sentinel. */
const NONCE = randomBytes(8).toString('hex');
const SENTINEL = new RegExp(`^\\u{E000}${NONCE}:(\\d+)\\u{E001}$`, 'u');
const MARK = /\uE002(\d+)\uE003/g;
const RESERVED = /[\uE000-\uE003]/;

/**
 * The text of template `name` with `data`, rendered by stamping when `name` is in STAMPED and the
 * data allow it, else by `plain` (the template's usual render).
 */
export function stamped(name: string, data: Record<string, unknown>, how: Rendering): string {
  const { plain } = how;
  const holes = STAMPED[name];
  if (!holes) return plain();
  let book = books.get(how.file);
  // A template whose code uses a hole some other way is never stamped (test/stamp.test.ts fails first).
  if (!book)
    books.set(how.file, (book = { families: new Map(), size: 0, made: 0, served: 0, off: checkHoles(how.source(), holes).length > 0 }));
  if (book.off) return plain();
  const hash = familyHash(data, holes);
  if (hash === undefined) return plain();
  let kin = book.families.get(hash);
  let stamp: Stamp | null | undefined;
  for (let i = 0; kin !== undefined && i < kin.length && stamp === undefined; i++)
    if (sameFamily(kin[i]!.family, data, holes)) stamp = kin[i]!.stamp;
  if (stamp === undefined) {
    // Full (a long watch session, edits to the site's values): start over.
    if (book.size >= MAX_FAMILIES) {
      book.families.clear();
      book.size = 0;
      kin = undefined;
    }
    // The family's data copied before its render, and rendered from a copy of its own: what the
    // stamp holds (an escaper's other arguments) and what later nodes are compared with are the
    // data as they were, whatever happens to the node's objects afterwards.
    const family = familyData(data);
    stamp = makeStamp(familyData(data).data, holes, how.renderWith);
    if (!kin) book.families.set(hash, (kin = []));
    kin.push({ family, stamp });
    book.size++;
    book.made++;
    // Every node its own family so far: the keys and stamps cost more than they save.
    if (book.made >= TRIAL && book.served < book.made) book.off = true;
  } else book.served++;
  return stamp === null ? plain() : fill(stamp, data);
}

/** Tests: forget every family (and whether stamping was turned off for a template). */
export function resetStamps(): void {
  books.clear();
}

/** Tests and the bench: a template's families kept and made, the hash buckets they are in, how many texts they served, whether stamping is off for it. */
export function stampStats(name: string): { families: number; made: number; buckets: number; served: number; off: boolean } | undefined {
  const b = [...books].find(([file]) => basename(file) === `${name}.eta`)?.[1];
  return b && { families: b.size, made: b.made, buckets: b.families.size, served: b.served, off: b.off };
}

/** A node's text: the family's pieces joined with the node's values, each through its escaper. */
function fill(stamp: Stamp, data: Record<string, unknown>): string {
  const { pieces, uses } = stamp;
  let out = pieces[0]!;
  for (let i = 0; i < uses.length; i++) {
    const u = uses[i]!;
    const v =
      u.index < 0
        ? data[u.field]
        : u.sub === undefined
          ? (data[u.field] as readonly unknown[])[u.index]
          : (data[u.field] as readonly Record<string, unknown>[])[u.index]![u.sub];
    let text: string;
    if (Object.is(v, stamp.lastValue[i])) text = stamp.lastText[i]!;
    else {
      text = u.rest.length === 0 ? u.fn(v) : u.rest.length === 1 ? u.fn(v, u.rest[0]) : u.fn(v, ...u.rest);
      stamp.lastValue[i] = v;
      stamp.lastText[i] = text;
    }
    out += text + pieces[i + 1]!;
  }
  return out;
}

/**
 * Render the family of `data` with a sentinel in each hole. Null when the family cannot be
 * stamped: a sentinel not taken by an escaper, a reserved character in a value, or a text that
 * holds `undefined` (its render is checked strictly, node by node).
 */
function makeStamp(data: Record<string, unknown>, holes: StampHoles, renderWith: Rendering['renderWith']): Stamp | null {
  const slots: { field: string; index: number; sub: string | undefined }[] = [];
  const sentinel = (field: string, index: number, sub?: string) => {
    slots.push({ field, index, sub });
    return `\uE000${NONCE}:${slots.length - 1}\uE001`;
  };
  const withSentinels: Record<string, unknown> = { ...data };
  for (const f of holes.values) if (data[f] !== undefined) withSentinels[f] = sentinel(f, -1);
  for (const f of holes.lists) withSentinels[f] = (data[f] as readonly unknown[]).map((_, i) => sentinel(f, i));
  for (const [f, subs] of Object.entries(holes.records ?? {}))
    withSentinels[f] = (data[f] as readonly Record<string, unknown>[]).map((r, i) => {
      const copy = { ...r };
      for (const sub of subs) if (r[sub] !== undefined) copy[sub] = sentinel(f, i, sub);
      return copy;
    });
  const uses: Use[] = [];
  let leaked = false;
  const esc = {} as Record<string, Escaper>;
  for (const [k, real] of Object.entries(escapers) as [string, Escaper][]) {
    esc[k] = (value: unknown, ...rest: unknown[]) => {
      const m = typeof value === 'string' ? SENTINEL.exec(value) : null;
      if (!m) return real.call(escapers, value, ...rest);
      // A hole among the other arguments would be fixed to this node's value for the family.
      if (rest.some(holds)) leaked = true;
      uses.push({ ...slots[Number(m[1])]!, fn: real.bind(escapers), rest });
      return `\uE002${uses.length - 1}\uE003`;
    };
  }
  let text: string;
  try {
    text = renderWith(withSentinels, esc as unknown as Escapers);
  } catch {
    // A value the plain render refuses (it says which): this family is rendered plainly.
    return null;
  }
  if (leaked) return null;
  const pieces: string[] = [];
  let last = 0;
  let n = 0;
  for (const m of text.matchAll(MARK)) {
    if (Number(m[1]) !== n++) return null;
    pieces.push(text.slice(last, m.index));
    last = m.index + m[0].length;
  }
  pieces.push(text.slice(last));
  if (n !== uses.length) return null;
  // A sentinel written some other way than by an escaper, or a value holding a reserved character.
  for (const p of pieces) if (RESERVED.test(p) || p.includes('undefined')) return null;
  return { pieces, uses, lastValue: uses.map(() => NOTHING), lastText: uses.map(() => '') };
}

/** Whether an escaper's other argument holds a reserved character (a sentinel), in it or in a list. */
function holds(v: unknown): boolean {
  if (typeof v === 'string') return RESERVED.test(v);
  return Array.isArray(v) && v.some(holds);
}

/** An eta tag: its whitespace control, its kind (`=` output, `~` raw output, '' code) and its code. */
const TAG = /<%([-_]?)([=~]?)([\s\S]*?)[-_]?%>/g;

/**
 * Problems of template `source` (its text) as a stamped template with `holes`; empty when it may
 * be stamped. A tag that names a hole must be an output tag that is one escaper call with the hole
 * as its first argument and fields of `it` after it (`<%= it.esc.<name>(it.<hole>, it.<field>) %>`),
 * nothing done to the escaper's result; a list or record hole is named by a code tag only as
 * `for (const <v> of it.<list>) {`, its element `<v>` (or a hole field `<v>.<field>`) then as such
 * an argument only. `it` is used only by its fields, the escapers only by a call, with no include,
 * part, index, `arguments`, escape sequence or eval; no hole is named outside a tag.
 */
export function checkHoles(source: string, holes: StampHoles): string[] {
  const tags = [...source.matchAll(TAG)];
  const problems: string[] = [];
  const literal = source.replace(TAG, '');
  const lists = [...holes.lists, ...Object.keys(holes.records ?? {})];
  const named = [...holes.values, ...lists];
  // The elements of list and record holes, by the loops over them.
  const elements = new Map<string, string>();
  for (const t of tags) {
    const loop = /^\s*for\s*\(\s*const\s+(\w+)\s+of\s+it\.(\w+)\s*\)\s*\{\s*$/.exec(t[3]!);
    if (loop && lists.includes(loop[2]!)) elements.set(loop[1]!, loop[2]!);
  }
  const code = tags.map((t) => t[3]!).join('\n');
  for (const [v] of elements)
    if ((code.match(new RegExp(`\\b(?:const|let|var|function)\\s+${v}\\b|[(,]\\s*${v}\\s*[,)]\\s*=>`, 'g')) ?? []).length !== 1)
      problems.push(`the element ${v} of a list hole is declared more than once`);
  if (/\bit\b(?!\s*\.\s*\w)|\bit\s*\[|\barguments\b|\\u|\beval\b|\bFunction\b|\binclude\w*\s*\(|\bpart\s*\(|\bit\.part\b/.test(code))
    problems.push('it uses `it` whole, an index, arguments, an escape sequence, eval, an include or a part');
  if (/\bit\.esc\b(?!\.\w+\()/.test(code)) problems.push('the escapers are used other than by a call');
  if (literal.includes('%>') || named.some((h) => new RegExp(`\\bit\\s*\\.\\s*${h}\\b`).test(literal)))
    problems.push('a tag ends inside its code, or a hole is named outside a tag');
  // A list's element is a hole wherever it is named; a record's, where it is named whole or by a hole field.
  const elementUse = (v: string, list: string) => {
    const subs = holes.records?.[list];
    return subs ? new RegExp(`\\b${v}\\b(?!\\s*\\.)|\\b${v}\\s*\\.\\s*(?:${subs.join('|')})\\b`) : new RegExp(`\\b${v}\\b`);
  };
  const names = (c: string) => [
    ...named.filter((h) => new RegExp(`\\bit\\s*\\.\\s*${h}\\b`).test(c)),
    ...[...elements].filter(([v, l]) => elementUse(v, l).test(c)).map(([v]) => v),
  ];
  for (const t of tags) {
    const c = t[3]!;
    const used = names(c);
    if (used.length === 0) continue;
    const loop = /^\s*for\s*\(\s*const\s+(\w+)\s+of\s+it\.(\w+)\s*\)\s*\{\s*$/.exec(c);
    if (t[2] === '' && loop && elements.get(loop[1]!) === loop[2]) continue;
    const call = /^\s*it\.esc\.\w+\(\s*([\w.]+)\s*(?:,\s*it(?:\.\w+)+\s*)?\)\s*$/.exec(c);
    const arg = call?.[1];
    const hole =
      arg !== undefined &&
      (holes.values.some((h) => arg === `it.${h}`) ||
        holes.lists.some((l) => elements.get(arg) === l) ||
        Object.entries(holes.records ?? {}).some(([r, subs]) =>
          subs.some((f) => [...elements].some(([v, l]) => l === r && arg === `${v}.${f}`)),
        ));
    const restNamesHole = call !== null && call !== undefined && names(c.slice(c.indexOf(arg!) + arg!.length)).length > 0;
    const recordWhole = arg !== undefined && elements.has(arg) && !holes.lists.includes(elements.get(arg)!);
    if (t[2] !== '=' || !hole || restNamesHole || recordWhole)
      problems.push(`a hole is used other than as the first argument of an escaper whose result is written: <%${t[2]}${c}%>`);
  }
  return problems;
}
