// Peak memory (docs/speed.md, "Memory"): V8 grows its heap up to about four times what is live
// when collecting is cheap, so a long run (a build of 1,000 sites) reached 900 MB with about 200 MB
// live. Each old-space collection may grow the heap by at most 30% of what it kept: a build of
// 100,000 nodes in 1,000 sites peaks at about 380 MB for about 8% more CPU. (V8's memory-saving
// mode, used before, bounded it too but made every collection a memory-reducing one: 60% more CPU.)
//
// The CLI sets it for each command as it starts, but for `watch` (whose session caches are a large
// live set that stays) and for `build`, which sets it when it starts compiling: a build whose sites
// are all up to date holds a few megabytes, and loading node:v8 and collecting under the flag cost
// about 5 ms of its 140. V8 reads the flag each time it sizes the heap after a collection, so a
// flag set before the work allocates holds for all of it. Process-wide (worker threads share it),
// so the CLI's, never the library's: a program that imports harvgen keeps its own heap policy.
import { createRequire } from 'node:module';

let bounded = false;

/** Bound V8's heap growth for the rest of the process (once; later calls do nothing). */
export function boundHeapGrowth(): void {
  if (bounded) return;
  bounded = true;
  // node:v8 only now: a command that never needs the bound never loads it. By require, which every
  // supported Node.js has (process.getBuiltinModule is missing from 21.x and 22.0-22.2).
  const v8 = createRequire(import.meta.url)('node:v8') as typeof import('node:v8');
  v8.setFlagsFromString('--heap-growing-percent=30');
}
