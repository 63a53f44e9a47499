// Dotted keys of a parsed installer config (`install.management_interface.method`).

/** The value at a dotted key of a parsed document (maps only). */
export function getKey(doc: unknown, key: string): unknown {
  let v: unknown = doc;
  for (const k of key.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}
