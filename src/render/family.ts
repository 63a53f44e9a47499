// The family of a stamped template's data (src/render/stamp.ts): every field but the holes,
// exactly, and of the holes their types and the lengths of the lists. Found without making a key:
// a hash of the data (every field but the holes' values) picks the families to compare, and a
// family is the same when every field compares equal to the data it was made from. (A key string
// of each node's data, hashed by the Map that held the families, was most of what stamping cost.)

import { clonePlain } from '../util/clone.ts';

/** A stamped template's holes (StampHoles in src/render/stamp.ts, which this file serves). */
interface StampHoles {
  readonly values: readonly string[];
  readonly lists: readonly string[];
  readonly records?: Readonly<Record<string, readonly string[]>>;
}

/** Nesting past this is not stamped (the data is rendered plainly). */
const MAX_DEPTH = 8;

/** What a family was made from: its data, copied (a later change to a shared object cannot match it), and the number of fields. */
export interface FamilyData {
  readonly data: Record<string, unknown>;
  readonly fields: number;
}

/** Tests only, process-wide (a test loader may load this module twice): every family in one bucket, so that each lookup compares. */
const ONE_BUCKET = Symbol.for('harvgen.familiesInOneBucket');
const testState = globalThis as { [ONE_BUCKET]?: boolean };

/** Tests only: put every family in one bucket (true), so that sameFamily decides alone; false restores the hash. */
export function oneBucketForTests(on: boolean): void {
  if (on) testState[ONE_BUCKET] = true;
  else delete testState[ONE_BUCKET];
}

const mix = (h: number, x: number): number => Math.imul(h ^ x, 0x01000193) >>> 0;

/** A type's code in a hash: strings, numbers and the rest told apart. */
function typeCode(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return 1;
    case 'number':
      return 2;
    case 'boolean':
      return v ? 3 : 4;
    case 'undefined':
      return 5;
    default:
      return v === null ? 6 : 7;
  }
}

const isRecord = (r: unknown): r is Record<string, unknown> =>
  typeof r === 'object' && r !== null && Object.getPrototypeOf(r) === Object.prototype;

/**
 * A hash of `data`'s family: equal for data of one family (unequal ones may share it). Undefined
 * when some value is not plain data (strings, numbers, booleans, null, undefined, arrays and plain
 * objects, at most MAX_DEPTH deep): such data is rendered plainly.
 */
export function familyHash(data: Record<string, unknown>, holes: StampHoles): number | undefined {
  let h = 0x811c9dc5;
  for (const k in data) {
    const v = data[k];
    const subs = holes.records?.[k];
    if (holes.values.includes(k)) h = mix(h, typeCode(v));
    else if (subs) {
      if (!Array.isArray(v)) return undefined;
      h = mix(h, v.length);
      for (const r of v) {
        if (!isRecord(r)) return undefined;
        const x = valueHash(r, 0, subs);
        if (x === undefined) return undefined;
        h = mix(h, x);
      }
    } else if (holes.lists.includes(k)) {
      if (!Array.isArray(v)) return undefined;
      h = mix(h, v.length);
      for (const e of v) {
        if (typeof e !== 'string' && typeof e !== 'number') return undefined;
        h = mix(h, typeCode(e));
      }
    } else {
      const x = valueHash(v, 0);
      if (x === undefined) return undefined;
      h = mix(h, x);
    }
  }
  return testState[ONE_BUCKET] ? 0 : h;
}

/** A value's hash: its type, a string, a number, a list's and an object's contents. `holes`: of a record, the fields whose type alone counts. */
function valueHash(v: unknown, depth: number, holes?: readonly string[]): number | undefined {
  switch (typeof v) {
    case 'string': {
      // Every character: values alike at their ends (a URL ending in a node's name) must not share a bucket.
      let h = mix(11, v.length);
      for (let i = 0; i < v.length; i++) h = mix(h, v.charCodeAt(i));
      return h;
    }
    case 'number':
      return mix(mix(12, v | 0), (v / 4294967296) | 0);
    case 'boolean':
    case 'undefined':
      return typeCode(v);
    case 'object': {
      if (v === null) return 6;
      if (depth > MAX_DEPTH) return undefined;
      let h = 13;
      if (Array.isArray(v)) {
        h = mix(h, v.length);
        for (let i = 0; i < v.length; i++) {
          const x = valueHash(v[i], depth + 1);
          if (x === undefined) return undefined;
          h = mix(h, x);
        }
        return h;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return undefined;
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue;
        const f = (v as Record<string, unknown>)[k];
        const x = holes?.includes(k) ? typeCode(f) : valueHash(f, depth + 1);
        if (x === undefined) return undefined;
        h = mix(h, x);
      }
      return h;
    }
    default:
      return undefined;
  }
}

/** `data` kept as a family's: lists and objects copied (strings and numbers are values). */
export function familyData(data: Record<string, unknown>): FamilyData {
  const copy: Record<string, unknown> = {};
  let fields = 0;
  for (const k in data) {
    copy[k] = clonePlain(data[k]);
    fields++;
  }
  return { data: copy, fields };
}

/** Whether `data` (whose familyHash is defined) is of the family made from `family`. */
export function sameFamily(family: FamilyData, data: Record<string, unknown>, holes: StampHoles): boolean {
  const a = family.data;
  let fields = 0;
  for (const k in data) {
    fields++;
    if (!Object.hasOwn(a, k)) return false;
    const x = a[k];
    const y = data[k];
    const subs = holes.records?.[k];
    if (holes.values.includes(k)) {
      if (typeof x !== typeof y) return false;
    } else if (subs) {
      const xs = x as readonly unknown[];
      const ys = y as readonly unknown[];
      if (xs.length !== ys.length) return false;
      for (let i = 0; i < xs.length; i++) if (!sameValue(xs[i], ys[i], 0, subs)) return false;
    } else if (holes.lists.includes(k)) {
      const xs = x as readonly unknown[];
      const ys = y as readonly unknown[];
      if (xs.length !== ys.length) return false;
      for (let i = 0; i < xs.length; i++) if (typeof xs[i] !== typeof ys[i]) return false;
    } else if (!sameValue(x, y, 0)) return false;
  }
  return fields === family.fields;
}

/** Equal as plain data: the same types, numbers by Object.is (-0 is not 0), lists and objects by their contents in order. */
function sameValue(x: unknown, y: unknown, depth: number, holes?: readonly string[]): boolean {
  if (typeof x !== typeof y) return false;
  if (typeof x === 'number') return Object.is(x, y);
  if (typeof x !== 'object' || x === null || y === null) return x === y;
  if (Array.isArray(x)) {
    if (!Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameValue(x[i], y[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(y)) return false;
  const xo = x as Record<string, unknown>;
  const yo = y as Record<string, unknown>;
  const xk = Object.keys(xo);
  const yk = Object.keys(yo);
  if (xk.length !== yk.length) return false;
  for (let i = 0; i < xk.length; i++) {
    const k = xk[i]!;
    if (k !== yk[i]) return false;
    if (holes?.includes(k) ? typeof xo[k] !== typeof yo[k] : !sameValue(xo[k], yo[k], depth + 1)) return false;
  }
  return true;
}
