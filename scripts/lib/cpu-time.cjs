// Preloaded (`node --require`) into each test file's process by scripts/run-tests.mjs: when the
// process exits, it writes to $HARVGEN_TEST_CPU_FILE the CPU seconds it used, its own and those of
// every child it waited for (QEMU, nginx, the CLI runs...), from Linux's /proc/self/stat (utime,
// stime, cutime, cstime, in USER_HZ ticks, 100 a second on every Linux the tests run on). On a
// 2-core machine the run is bound by CPU, not by wall time, so this is the figure that says which
// file costs what. Elsewhere (no /proc) nothing is written and the runner shows no figure.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');

const file = process.env.HARVGEN_TEST_CPU_FILE;
if (file) {
  // Not for the processes the file starts (a runner started by a test sets its own).
  delete process.env.HARVGEN_TEST_CPU_FILE;
  process.on('exit', () => {
    try {
      const stat = readFileSync('/proc/self/stat', 'utf8');
      // pid (comm) state ...: comm may hold spaces and parentheses; utime is field 14, after ')' the 12th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
      if (Number.isFinite(ticks)) writeFileSync(file, String(ticks / 100));
    } catch {
      // no /proc: no figure
    }
  });
}
