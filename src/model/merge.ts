// Deep merge of plain objects, as `config:` layers merge.

/** Deep merge of plain objects; `over` wins; arrays and scalars are replaced. */
export function deepMerge(under: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...under };
  for (const [k, v] of Object.entries(over)) {
    const u = out[k];
    out[k] = isPlainObject(u) && isPlainObject(v) ? deepMerge(u, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
