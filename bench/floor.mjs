// The floor of `npm run bench`: the least a Node process can do to produce a site's tree. It
// reads one binary pack (bench/bench.ts, `pack`: every directory, and every file's path, mode and
// bytes, in the order they are made), then makes the same directories and writes the same bytes
// to the same paths under a fresh directory: each directory created once (its parent first), each
// file written once from a slice of the pack, synchronously. Nothing parsed, no string decoded
// but the paths, no rendering, no atomicity.
//   node bench/floor.mjs <pack.bin> <out-dir>
// The pack: `HGP1`, then per entry a kind byte (1 directory, 2 file), the path's length (u16 LE)
// and bytes (UTF-8, relative), and for a file its mode (u16 LE), length (u32 LE) and bytes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const [packFile, out] = process.argv.slice(2);
const pack = readFileSync(packFile);
if (pack.toString('latin1', 0, 4) !== 'HGP1') throw new Error(`${packFile}: not a floor pack`);
mkdirSync(out, { recursive: true });
const base = `${out}/`;
for (let at = 4; at < pack.length;) {
  const kind = pack[at];
  const pathLength = pack.readUInt16LE(at + 1);
  const path = base + pack.toString('utf8', at + 3, at + 3 + pathLength);
  at += 3 + pathLength;
  if (kind === 1) {
    mkdirSync(path);
    continue;
  }
  const mode = pack.readUInt16LE(at);
  const length = pack.readUInt32LE(at + 2);
  writeFileSync(path, pack.subarray(at + 6, at + 6 + length), { mode });
  at += 6 + length;
}
