// Templates get their data through a proxy that throws on any property that does not exist,
// so a misspelled or missing field is a render error caught by the tests, never an
// "undefined" written into a boot script (the failure mode of matchbox's "<no value>").

/** Thrown when a template reads a property its data does not have. */
export class MissingTemplateValue extends Error {
  override readonly name = 'MissingTemplateValue';
}

const PASS_THROUGH = new Set<string | symbol>(['then', 'toJSON', 'constructor', 'length', 'asymmetricMatch', '$$typeof']);

/** Proxies already made, by object and path (templates read the same values many times). */
const made = new WeakMap<object, Map<string, unknown>>();

/** Wrap `value` so that reading a missing property throws MissingTemplateValue. */
export function strict<T>(value: T, path = 'it', trusted?: ReadonlySet<object>): T {
  if (value === null || typeof value !== 'object' || trusted?.has(value)) return value;
  let byPath = made.get(value);
  const hit = byPath?.get(path);
  if (hit !== undefined) return hit as T;
  const proxy = new Proxy(value as object, {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol' || PASS_THROUGH.has(prop) || prop in target) {
        const v = Reflect.get(target, prop, receiver);
        return typeof prop === 'symbol' || v === null || typeof v !== 'object' ? v : strict(v, `${path}.${String(prop)}`, trusted);
      }
      throw new MissingTemplateValue(`template read ${path}.${prop}, which does not exist`);
    },
  }) as T;
  if (!byPath) made.set(value, (byPath = new Map()));
  byPath.set(path, proxy);
  return proxy;
}
