// status streams its logs: memory does not grow with them. Millions of lines (a plain log and a
// gzip one, merged by time) give the same verdicts as a few blocks of the same lines, in a child
// with a small heap whose peak RSS stays under a stated bound. An over-long line is counted and
// skipped, not fatal.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status } from '../src/status/index.ts';
import { parseLine } from '../src/status/log.ts';
import { MAX_NODE_EVENTS, MAX_NODE_PROBLEMS } from '../src/status/node-tally.ts';
import { MAX_STRANGERS } from '../src/status/tally.ts';
import { readLogs } from '../src/status/read-logs.ts';
import { readIncremental } from '../src/status/cursor.ts';
import { bigLogDir, longLineLog, repeatedLog } from './helpers/hostile-log.ts';
import { byHost, ev, line, site, sortedLog } from './helpers/status.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');
/** Lines of the big log (plain), and of its gzip part. */
const PLAIN_LINES = 1_000_000;
const GZ_LINES = 200_000;
/** The child's heap, and the peak RSS it must stay under (node itself and tsx take about 90 MiB). */
const HEAP_MIB = 96;
const RSS_LIMIT_MIB = 220;

const block = sortedLog().trimEnd().split('\n');
const perBlock = block.filter((l) => parseLine(l, '')).length;

/** What status says of `logs` in a child with a small heap: verdicts, counts, peak RSS (MiB), CPU seconds. */
function statusInChild(dir: string, logs: string[]) {
  const code = `
    const { status } = await import(${JSON.stringify(join(repo, 'src/status/index.ts'))});
    const r = await status({ sites: [${JSON.stringify(dir)}], logs: ${JSON.stringify(logs)} });
    const u = process.resourceUsage();
    console.log(JSON.stringify({
      verdicts: Object.fromEntries(r.nodes.map((n) => [n.hostname, n.verdict])),
      requests: r.requests,
      diagnostics: r.diagnostics.map((d) => d.code),
      rssMiB: Math.round(u.maxRSS / 1024),
      cpuS: Math.round((u.userCPUTime + u.systemCPUTime) / 1e5) / 10,
    }));
  `;
  const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, '--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.is(r.status, 0, `status failed (signal ${r.signal}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as {
    verdicts: Record<string, string>;
    requests: number;
    diagnostics: string[];
    rssMiB: number;
    cpuS: number;
  };
}

test(`${PLAIN_LINES + GZ_LINES} lines (plain and gzip, merged) give the verdicts of a few blocks, in a ${HEAP_MIB} MiB heap and under ${RSS_LIMIT_MIB} MiB RSS`, async () => {
  const dir = bigLogDir('status-memory');
  try {
    const s = site('st', dir);
    // The same lines, a few blocks of them: what the verdicts must be.
    const small = join(dir, 'small.log');
    const smallGz = join(dir, 'small.log.gz');
    repeatedLog(small, block, block.length * 3);
    writeFileSync(smallGz, gzipSync(readFileSync(small).subarray(0, readFileSync(small).length / 3)));
    const expected = await status({ sites: [s], logs: [small, smallGz] });
    const big = join(dir, 'access.log');
    const bigGz = join(dir, 'access.log.1.gz');
    repeatedLog(big, block, PLAIN_LINES);
    repeatedLog(bigGz, block, GZ_LINES);
    writeFileSync(bigGz, gzipSync(readFileSync(bigGz)));
    const got = statusInChild(s, [big, bigGz]);
    const blocks = Math.ceil(PLAIN_LINES / block.length) + Math.ceil(GZ_LINES / block.length);
    assert.equal(got.diagnostics, []);
    assert.is(got.requests, blocks * perBlock);
    assert.equal(got.verdicts, Object.fromEntries(expected.nodes.map((n) => [n.hostname, n.verdict])));
    assert.ok(got.rssMiB < RSS_LIMIT_MIB, `peak RSS ${got.rssMiB} MiB (CPU ${got.cpuS} s)`);
    console.log(`  ${blocks * block.length} lines: peak RSS ${got.rssMiB} MiB, CPU ${got.cpuS} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an over-long line (3 MB, plain or gzip) is counted and skipped; the lines around it are read', async () => {
  const dir = tempDir('status-long-line');
  const before = [line('10.0.0.13', 6, '/ipxe/52-54-00-00-00-03.ipxe', 200)];
  const after = [line('10.0.0.12', 7, '/ipxe/52-54-00-00-00-02.ipxe', 200)];
  const plain = join(dir, 'access.log');
  longLineLog(plain, before, 3_000_000, after);
  const gz = join(dir, 'access.log.1.gz');
  writeFileSync(gz, gzipSync(readFileSync(plain)));
  for (const file of [plain, gz]) {
    const r = await readLogs([file]);
    assert.equal(r.unreadable, []);
    assert.is(r.long, 1, file);
    assert.is(r.skipped, 0);
    assert.equal(
      r.list.map((q) => q.ip),
      ['10.0.0.13', '10.0.0.12'],
    );
    // The incremental reader: the same, and its cursor past the whole file.
    const i = await readIncremental([file]);
    assert.is(i.long, 1);
    assert.is(i.list.length, 2);
  }
});

test("a node's problems and events, and a site's unknown machines, are bounded, with what was left out counted", async () => {
  const dir = tempDir('status-node-bounds');
  const s = site('st', dir);
  const lines: string[] = [];
  // Two problems in turn (the same one in a row is counted on one line).
  for (let i = 0; i < 200; i++) lines.push(line('10.0.0.13', i % 50, '/harvester/disk.yaml', i % 2 ? 404 : 403));
  for (let i = 0; i < 150; i++) lines.push(line('10.0.0.14', 50 + (i % 9), ev('inst', 'STARTED', 4), 200));
  const hex = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
  for (let i = 0; i < MAX_STRANGERS + 50; i++)
    lines.push(line('10.0.0.160', 59, `/ipxe/52-54-01-${hex(i >> 16)}-${hex(i >> 8)}-${hex(i)}.ipxe`, 404));
  const log = join(dir, 'access.log');
  writeFileSync(log, `${lines.join('\n')}\n`);
  const r = await status({ sites: [s], logs: [log] });
  const n = byHost(r.nodes);
  assert.is(n.disk!.problems.length, MAX_NODE_PROBLEMS + 1);
  assert.match(n.disk!.problems[0]!, `${200 - MAX_NODE_PROBLEMS} earlier problems not shown`);
  assert.is(n.inst!.events.length, MAX_NODE_EVENTS);
  assert.is(n.inst!.events_omitted, 150 - MAX_NODE_EVENTS);
  assert.is(r.unknown.length, MAX_STRANGERS);
  assert.ok(
    r.notes!.some((x) => x.includes('50 request(s) of unknown MACs past the first')),
    String(r.notes),
  );
});

test.run();
