// Preloaded by `npm run bench` into every process it measures (node --require): at exit, writes
// the process's peak resident set size in KiB (getrusage's ru_maxrss) to $HARVGEN_BENCH_RSS_FILE.
// CommonJS on purpose: a preload given with --import sets up the ES module loader before the
// program starts, which cost `node -e 0` about 6 ms of its 47 here; --require costs under 1.
const { writeFileSync } = require('node:fs');

const file = process.env.HARVGEN_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
