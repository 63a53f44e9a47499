// Preloaded by `npm run bench` into every process it measures (node --import): at exit, writes
// the process's peak resident set size in KiB (getrusage's ru_maxrss) to $HARVGEN_BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';

const file = process.env.HARVGEN_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
