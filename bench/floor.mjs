// The floor of `npm run bench`: the least a Node process can do to produce a site's tree. It
// reads one pack file (every path, mode and content of the tree harvgen built), then writes
// the same bytes to the same paths under a fresh directory: each directory created once, each
// file written once, synchronously. No parsing, no rendering, no atomicity.
//   node bench/floor.mjs <pack.json> <out-dir>
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [pack, out] = process.argv.slice(2);
const files = JSON.parse(readFileSync(pack, 'utf8'));
const made = new Set();
for (const [path, mode, contents] of files) {
  const file = join(out, path);
  const dir = dirname(file);
  if (!made.has(dir)) {
    mkdirSync(dir, { recursive: true });
    made.add(dir);
  }
  writeFileSync(file, contents, { mode });
}
