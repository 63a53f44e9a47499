// Freezing a value all the way down (models, parses kept across builds, the installer schema).

/** `value` and everything in it frozen (plain objects and arrays); an already frozen object is taken as frozen inside. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
