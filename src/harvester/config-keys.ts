// Dotted keys of a parsed installer config (`install.management_interface.method`).

/** Dotted keys split once (the keys are the schema's and the rules', a few hundred; bounded all the same). */
const parts = new Map<string, readonly string[]>();
const MAX_PARTS = 4096;

/** The value at a dotted key of a parsed document (maps only). */
export function getKey(doc: unknown, key: string): unknown {
  let path = parts.get(key);
  if (path === undefined) {
    path = key.split('.');
    if (parts.size < MAX_PARTS) parts.set(key, path);
  }
  let v: unknown = doc;
  for (let i = 0; i < path.length; i++) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[path[i]!];
  }
  return v;
}
