// Exhaustive switches: the `default:` of a switch over a union's discriminant. `tsc` refuses the
// call when a member is not handled (its argument is then not `never`); at run time (a value from
// outside the types: a forged model, a bad cast) it throws, naming the value.

/** The end of an exhaustive switch: unreachable when every member of the union is handled. */
export function assertNever(x: never, what = 'value'): never {
  let shown: string;
  try {
    shown = JSON.stringify(x) ?? String(x);
  } catch {
    shown = String(x);
  }
  throw new Error(`unexpected ${what}: ${shown}`);
}
