// Templates get their data through a proxy that throws on any property that does not exist,
// so a misspelled or missing field is a render error caught by the tests, never an
// "undefined" written into a boot script (the failure mode of matchbox's "<no value>").

/** Thrown when a template reads a property its data does not have. */
export class MissingTemplateValue extends Error {
  override readonly name = 'MissingTemplateValue';
}

const PASS_THROUGH = new Set<string | symbol>(['then', 'toJSON', 'constructor', 'length', 'asymmetricMatch', '$$typeof']);

/** Wrap `value` so that reading a missing property throws MissingTemplateValue. */
export function strict<T>(value: T, path = 'it'): T {
  if (value === null || typeof value !== 'object') return value;
  return new Proxy(value as object, {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol' || PASS_THROUGH.has(prop) || prop in target) {
        const v = Reflect.get(target, prop, receiver);
        return typeof prop === 'symbol' || v === null || typeof v !== 'object' ? v : strict(v, `${path}.${String(prop)}`);
      }
      throw new MissingTemplateValue(`template read ${path}.${prop}, which does not exist`);
    },
  }) as T;
}
