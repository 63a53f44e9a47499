// An lstat (and a stat) that answers "nothing there" instead of throwing. Synchronous on purpose:
// each asynchronous call is a round trip through libuv's thread pool while the main thread, the
// only one with work to do, waits (about 0.25 ms each on the 2-core machines; 15 a site). Internal (its Stats type is Node's:
// no shipped declaration may name it, so no public module exports it).
import { lstatSync, statSync, type Stats } from 'node:fs';
import { sep } from 'node:path';

/** The lstat of `p`, or undefined when there is nothing there or it cannot be asked (a component no directory: ENOTDIR). */
export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** The stat of `p` (links followed), or undefined when it cannot be had (nothing there, a dangling link, no permission). */
export function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/** The lstat of `p` when it is a regular file (not a link to one), else undefined. */
export function regularFile(p: string): Stats | undefined {
  const st = lstatOrUndefined(p);
  return st?.isFile() ? st : undefined;
}

/**
 * A function that gives the same file as a normalized absolute path by a shorter path, relative
 * to the working directory when the path is below it: the kernel then looks up fewer components
 * per stat (11,708 lstats of an output tree: 23 ms against 28-37 ms). Node.js keeps the working
 * directory's path as it was when it was set: when the directory a relative path starts from is
 * no longer the one at that path (renamed while a long process runs, `watch`), every path stays
 * absolute. Taken once, when the function is made: use it in synchronous code only.
 */
export function nearPaths(): (absolute: string) => string {
  const cwd = process.cwd();
  const here = statOrUndefined('.');
  const there = statOrUndefined(cwd);
  if (!here || !there || here.dev !== there.dev || here.ino !== there.ino) return (absolute) => absolute;
  const below = cwd.endsWith(sep) ? cwd : cwd + sep;
  return (absolute) =>
    absolute.startsWith(below) && absolute.length > below.length && absolute[below.length] !== sep
      ? absolute.slice(below.length)
      : absolute;
}
