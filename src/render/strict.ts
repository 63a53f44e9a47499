// Templates get their data through a proxy that throws on any property that does not exist,
// so a misspelled or missing field is a render error caught by the tests, never an
// "undefined" written into a boot script (the failure mode of matchbox's "<no value>").

/** Thrown when a template reads a property its data does not have. */
export class MissingTemplateValue extends Error {
  override readonly name = 'MissingTemplateValue';
}

const PASS_THROUGH = new Set<string | symbol>(['then', 'toJSON', 'constructor', 'length', 'asymmetricMatch', '$$typeof']);

/**
 * The proxy of each object already wrapped, and the path it was first reached by (for the
 * message). A template reads the same nested objects (the model, its release, the node) many
 * times per file and the same ones in every node's file: one proxy per object, not one per read,
 * keeps rendering from allocating a proxy and a path string at every property access.
 */
const proxies = new WeakMap<object, object>();
const paths = new WeakMap<object, string>();

const handler: ProxyHandler<object> = {
  get(target, prop, receiver) {
    if (typeof prop === 'symbol' || PASS_THROUGH.has(prop) || prop in target) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof prop === 'symbol' || v === null || typeof v !== 'object') return v;
      return proxies.get(v) ?? strict(v, `${paths.get(target)}.${prop}`);
    }
    throw new MissingTemplateValue(`template read ${paths.get(target)}.${prop}, which does not exist`);
  },
};

/** Wrap `value` so that reading a missing property throws MissingTemplateValue. */
export function strict<T>(value: T, path = 'it'): T {
  if (value === null || typeof value !== 'object') return value;
  const known = proxies.get(value);
  if (known) return known as T;
  const proxy = new Proxy(value as object, handler);
  proxies.set(value, proxy);
  paths.set(value, path);
  return proxy as T;
}
