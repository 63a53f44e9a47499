// Preloaded by `npm run bench` into every process it measures (node --require): at exit, writes
// to $HARVGEN_BENCH_RSS_FILE, separated by spaces: the process's peak resident set size in KiB
// (getrusage's ru_maxrss), its CPU time in µs (user + system, every thread), and of the main
// thread's heap the bytes allocated and the time spent collecting garbage in µs (v8.GCProfiler:
// each collection's heap use before it less the use after the one before, plus what is in use at
// exit). Allocation is what the collector has to clean up after: a build's garbage collection
// time follows it. A worker thread's heap (`--jobs`) is its own and not counted.
// CommonJS on purpose: a preload given with --import sets up the ES module loader before the
// program starts, which cost `node -e 0` about 6 ms of its 47 here; --require costs under 1.
const { writeFileSync } = require('node:fs');

const file = process.env.HARVGEN_BENCH_RSS_FILE;
if (file) {
  const v8 = require('node:v8');
  const profiler = new v8.GCProfiler();
  profiler.start();
  process.on('exit', () => {
    const { statistics } = profiler.stop();
    let allocated = 0;
    let gcUs = 0;
    let after = 0;
    for (const gc of statistics) {
      allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - after);
      after = gc.afterGC.heapStatistics.usedHeapSize;
      gcUs += gc.cost;
    }
    allocated += Math.max(0, v8.getHeapStatistics().used_heap_size - after);
    const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
    writeFileSync(file, `${maxRSS} ${userCPUTime + systemCPUTime} ${allocated} ${Math.round(gcUs)}`);
  });
}
