// A deep copy of plain data (what a parsed inventory holds: objects, arrays, strings, numbers,
// booleans, null). structuredClone handles every kind of value and keeps shared references, which
// plain data does not need: this copy of a 10,000-node inventory takes a fraction of its time.

/** A deep copy of `value`, plain data only (anything else is copied as its own properties). */
export function clonePlain<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(clonePlain) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = clonePlain((value as Record<string, unknown>)[key]);
    // Never a prototype set through a key (the loader refuses `__proto__`; this copy does not rely on it).
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out as T;
}
