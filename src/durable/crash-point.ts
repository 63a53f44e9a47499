// Test only (test/cli-crash.test.ts, test/emit-fresh.test.ts): with HARVGEN_TEST_CRASH=<point>:<n>
// the process kills itself (SIGKILL) at the n-th pass of that point: `temp` (a temp file written),
// `journal` (committed), `rename` (a file renamed into place), `manifest` (manifest.json renamed),
// `before-journal-delete`; a first build's `staged` (a file written into its staging directory)
// and `before-staging-rename`.

// Read once: a process is started with it (process.env makes a string at each read, and a build
// passes a point for every file it writes).
const WANT = process.env.HARVGEN_TEST_CRASH;

/** Kill this process here when HARVGEN_TEST_CRASH names this point and pass. */
export function crashPoint(point: string, n = 1): void {
  if (WANT !== undefined && WANT === `${point}:${n}`) process.kill(process.pid, 'SIGKILL');
}
