// An lstat that answers "nothing there" instead of throwing. Internal (its Stats type is Node's:
// no shipped declaration may name it, so no public module exports it).
import { lstatSync, type Stats } from 'node:fs';

/** The lstat of `p`, or undefined when there is nothing there or it cannot be asked (a component no directory: ENOTDIR). */
export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
