// Eta set-up: templates live in templates/*.eta and get strict data. Eta's own HTML escaping
// is off: each template escapes every value for its own format through `it.esc`
// (src/formats/escape.ts), the one place that knows each format's syntax.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Eta } from 'eta';
import { escapers } from '../formats/escape.ts';
import { strict } from './strict.ts';
import { generalPath } from '../util/general-path.ts';
import { packageFile } from '../util/package-root.ts';
import { STAMPED, stamped } from './stamp.ts';

const views = packageFile('templates');
/** Each stamped template's file (made once: it keys the template's families, src/render/stamp.ts). */
const files = new Map<string, string>();
const fileOf = (name: string): string => files.get(name) ?? (files.set(name, join(views, `${name}.eta`)), files.get(name)!);
const eta = new Eta({
  views,
  autoEscape: false,
  autoTrim: false,
  cache: true,
  varName: 'it',
});

/**
 * Render templates/<name>.eta with strict data; the escapers are `it.esc`.
 *
 * A template that reads a value its data does not have is a bug that must fail the render, never
 * write "undefined" into a boot script: the strict proxy (./strict.ts) throws on such a read. It
 * costs about ten times the template's own work at every property read, so the fast path renders
 * with the plain data and renders strictly again only when the text holds `undefined` (the strict
 * render then throws, or shows that the word is the inventory's own). The general path
 * (`HARVGEN_GENERAL_PATH=1`) renders strictly always, which also catches a missing value read
 * only in a condition; test/fast-path.test.ts builds every fixture both ways and compares the trees.
 */
export function renderTemplate(name: string, data: object, parts?: Parts, keep?: Keep, finish?: (text: string) => string): string {
  if (keep) {
    // The same data and parts as the last render kept under this key: the same text, the same
    // string (a site-wide file of megabytes is neither built nor hashed again).
    const last = keep.texts.get(keep.key);
    if (last && last.name === name && sameData(last.data, data) && sameData(last.parts, parts)) return last.text;
    const text = renderTemplate(name, data, parts, undefined, finish);
    keep.texts.set(keep.key, { name, data, parts, text });
    return text;
  }
  // A per-node template is rendered once per family of nodes and filled per node (./stamp.ts);
  // never on the general path, which test/fast-path.test.ts compares with this one.
  if (!parts && !finish && STAMPED[name] && !generalPath())
    return stamped(name, data as Record<string, unknown>, {
      renderWith: (d, esc) => eta.render(`./${name}.eta`, { ...d, esc }),
      plain: () => renderChecked(`./${name}.eta`, data),
      source: () => readFileSync(join(views, `${name}.eta`), 'utf8'),
      file: fileOf(name),
    });
  const text = renderChecked(`./${name}.eta`, parts ? { ...data, part: partsOf(name, parts) } : data);
  // What the caller does to every rendered text (kept as finished: not done again for a kept one).
  return finish ? finish(text) : text;
}

/** Render a template (by path or compiled) with `data` and the escapers, strictly as renderTemplate says. */
function renderChecked(template: string | ReturnType<Eta['compile']>, data: object): string {
  const full = { ...data, esc: escapers };
  if (generalPath()) return eta.render(template, strict(full));
  const text = eta.render(template, full);
  if (text.includes('undefined')) return eta.render(template, strict(full));
  return text;
}

/** A template's parts by name: each a text, or the texts of its nodes in order (joined when rendered). */
export type Parts = Readonly<Record<string, string | readonly string[]>>;

/** Texts of site-wide files kept across watch's rebuilds (RenderCache.texts), by output path. */
export type KeptTexts = Map<
  string,
  { readonly name: string; readonly data: object; readonly parts: Parts | undefined; readonly text: string }
>;

/** Where renderTemplate keeps its text for the next render of the same file. */
export interface Keep {
  readonly texts: KeptTexts;
  readonly key: string;
}

/**
 * Whether two template inputs are the same data: plain values, arrays and plain objects compared
 * all the way down (a template reads nothing else; the frozen model's unchanged parts are the
 * same objects, compared at once).
 */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  // Plain objects only: any other (a class with private state) is the same only as itself.
  const proto = Object.getPrototypeOf(a) as unknown;
  if (Array.isArray(b) || (proto !== Object.prototype && proto !== null) || Object.getPrototypeOf(b) !== proto) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka)
    if (!Object.hasOwn(b, k) || !sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

/**
 * Parts: a template that repeats a block for every node writes `<%~ it.part('./<part>.eta') %>`,
 * the block being a template of its own rendered per node by renderPart (its text kept across
 * watch's rebuilds for an unchanged node), here joined. The one raw output besides `include`:
 * test/escape.test.ts checks that a part is a template of the same format, which escapes every
 * value itself; a part the renderer did not supply fails the render.
 */
function partsOf(name: string, parts: Parts): (part: string) => string {
  return (part) => {
    const text = parts[part];
    if (text === undefined) throw new Error(`templates/${name}.eta: part ${part} was not rendered`);
    return typeof text === 'string' ? text : text.join('');
  };
}

/** Compiled part templates: renderPart runs one per node, which eta.render's path lookup would cost more than the block. */
const partFns = new Map<string, ReturnType<Eta['compile']>>();

/**
 * Render the part template `./<name>` (see partsOf) with strict data, like renderTemplate; the
 * joined texts of all nodes go to renderTemplate's `parts` under that name.
 */
export function renderPart(name: string, data: object): string {
  let fn = partFns.get(name);
  if (!fn) partFns.set(name, (fn = eta.compile(readFileSync(join(views, name), 'utf8'))));
  return renderChecked(fn, data);
}
