// The JSON text a cache keys a value by. JSON.stringify writes NaN, Infinity and -Infinity as
// null and -0 as 0, and YAML reads `.nan`, `.inf`, `-.inf` and `-0` to exactly those numbers,
// which the renderers write back as they are: two values that render differently must never share
// a key. Such numbers are written tagged here (a string no inventory value can be: it starts with NUL).

const tagged = (_key: string, v: unknown): unknown =>
  typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `\u0000number:${Object.is(v, -0) ? '-0' : String(v)}` : v;

/** JSON.stringify(value), with the numbers JSON cannot tell apart tagged. */
export function keyJson(value: unknown): string {
  return JSON.stringify(value, tagged);
}
