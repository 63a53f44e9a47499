// Test-only kill points of `harvgen pull`: with `HARVGEN_TEST_PAUSE_AT=<point>` the process prints
// `harvgen-pause <point>` on stdout and blocks there until it is killed (the kill tests). The one
// place that reads the variable; the store's points are `PAUSE_POINTS` (src/pull/store.ts), the
// release download's is `mid-release-download` (src/pull/releases.ts).
import { writeSync } from 'node:fs';

export function pausePoint(point: string): void {
  if (process.env.HARVGEN_TEST_PAUSE_AT !== point) return;
  writeSync(1, `harvgen-pause ${point}\n`);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0, 60_000);
}
