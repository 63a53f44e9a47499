// Preloaded by `npm run bench` into every process it measures (node --require): at exit, writes
// to $HARVGEN_BENCH_RSS_FILE, separated by spaces: the process's peak resident set size in KiB
// (getrusage's ru_maxrss), its CPU time in µs (user + system, every thread), of the main thread's
// JavaScript heap the bytes allocated since the probe started and the time spent collecting
// garbage in µs (v8.GCProfiler: each collection's heap use before it less the use after the one
// before, plus what is in use at exit less the use after the last one), and the number of worker
// threads the process started. The bytes are a lower bound of the main thread's JavaScript
// allocation: a worker's heap, Buffers' memory and Node's own C++ memory are not in it (a process
// that started workers has its figure reported as not comparable). Everything is read before the
// profiler's own record is parsed, which would count itself. Allocation is what the collector has
// to clean up after: a build's garbage collection time follows it.
// CommonJS on purpose: a preload given with --import sets up the ES module loader before the
// program starts, which cost `node -e 0` about 6 ms of its 47 here; --require costs under 1.
const { writeFileSync } = require('node:fs');
const { isMainThread } = require('node:worker_threads');

const file = process.env.HARVGEN_BENCH_RSS_FILE;
// Workers inherit the preload: only the main thread measures.
if (file && isMainThread) {
  const v8 = require('node:v8');
  const start = v8.getHeapStatistics().used_heap_size;
  let workers = 0;
  process.on('worker', () => workers++);
  const profiler = new v8.GCProfiler();
  profiler.start();
  process.on('exit', () => {
    const inUse = v8.getHeapStatistics().used_heap_size;
    const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
    const { statistics } = profiler.stop();
    let allocated = 0;
    let gcUs = 0;
    let after = start;
    for (const gc of statistics) {
      allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - after);
      after = gc.afterGC.heapStatistics.usedHeapSize;
      gcUs += gc.cost;
    }
    allocated += Math.max(0, inUse - after);
    writeFileSync(file, `${maxRSS} ${userCPUTime + systemCPUTime} ${allocated} ${Math.round(gcUs)} ${workers}`);
  });
}
