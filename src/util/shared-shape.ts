// Objects kept long (the model's nodes) rebuilt so that those with the same keys share one shape.

/**
 * `o` rebuilt key by key (its own enumerable keys, in order), so that it shares its shape (V8's
 * map) with every object of the same keys. An object spread with conditional parts
 * (`{ ...base, ...(x !== undefined ? { x } : {}) }`) made at a place that sees many shapes gets a
 * map of its own in V8 11 (Node 20): about 250 bytes for three keys and 1 KB for a node, which a
 * 10,000-node site keeps about 60,000 times. For plain objects only (the prototype is not kept).
 */
export function sharedShape<T extends object>(o: T, replace?: Partial<T>): T {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    // `replace`: a key's value taken from it instead (the key keeps its place): one copy, not a
    // spread and a copy. A key of `replace` that `o` lacks is not added.
    const v =
      replace !== undefined && Object.hasOwn(replace, k) ? (replace as Record<string, unknown>)[k] : (o as Record<string, unknown>)[k];
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out as T;
}
