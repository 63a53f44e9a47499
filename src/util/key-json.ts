// The JSON text a cache keys a value by. JSON.stringify writes NaN, Infinity and -Infinity as
// null and -0 as 0, and YAML reads `.nan`, `.inf`, `-.inf` and `-0` to exactly those numbers,
// which the renderers write back as they are: two values that render differently must never share
// a key. Such numbers are written tagged here (a string no inventory value can be: it starts with NUL).

const tagged = (_key: string, v: unknown): unknown =>
  typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `\u0000number:${Object.is(v, -0) ? '-0' : String(v)}` : v;

/** JSON.stringify(value), with the numbers JSON cannot tell apart tagged. */
export function keyJson(value: unknown): string {
  // A replacer takes JSON.stringify off its fast path (twice the time for a node): used only when
  // a walk finds such a number (watch and the reuse of rendered nodes key every node each build).
  return holdsUntellable(value) ? JSON.stringify(value, tagged) : JSON.stringify(value);
}

/** Whether `v` holds NaN, an infinity or -0 anywhere (in what JSON.stringify writes). */
function holdsUntellable(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v) || Object.is(v, -0);
  if (v === null || typeof v !== 'object') return false;
  // Indexed and for-in loops: an array iterator or a key array per object walked was most of what
  // a build allocated here (about 70 MB for 10,000 rich nodes).
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (holdsUntellable(v[i])) return true;
    return false;
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return true; // what it returns is not walked: tag by the replacer
  for (const k in v) if (Object.hasOwn(v, k) && holdsUntellable((v as Record<string, unknown>)[k])) return true;
  return false;
}
