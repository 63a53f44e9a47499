// Whether two lists hold the same items (`===`) in the same order: what a keep compares before it
// reuses what it made of a list.

/** `a` and `b` have the same length and the same item at every place. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
