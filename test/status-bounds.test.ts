// What status reads is what anyone on a boot server's network sent, and the logs come from boot
// servers (`rsync -a` keeps links): a log that is a FIFO, a link to one or to /dev/zero is refused
// without blocking or being read, a gzip that unpacks past the bound is refused, and a FIFO in a
// site's log directory is reported, not left out in silence. Each case runs in a child process with
// a time limit and a small heap, so that a reader that blocks or reads without end fails the test
// instead of hanging it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { siteLogs } from '../src/status/fleet.ts';
import { fifo, gzipBomb, hostileFiles } from './helpers/hostile-log.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

/** What readLogs and readIncremental say of `files` (in a child: 20 s, a 128 MiB heap), with `maxBytes`. */
function read(files: string[], maxBytes?: number): { logs: string[]; incremental: string[] } {
  const code = `
    const { readLogs } = await import(${JSON.stringify(join(repo, 'src/status/read-logs.ts'))});
    const { readIncremental } = await import(${JSON.stringify(join(repo, 'src/status/cursor.ts'))});
    const files = ${JSON.stringify(files)};
    const max = ${maxBytes ?? 'undefined'};
    const problems = (u) => u.map((x) => x.problem);
    console.log(JSON.stringify({ logs: problems((await readLogs(files, undefined, max)).unreadable), incremental: problems((await readIncremental(files, [], undefined, max)).unreadable) }));
  `;
  const r = spawnSync(process.execPath, ['--max-old-space-size=128', '--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.is(r.status, 0, `the read did not end by itself (signal ${r.signal}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as { logs: string[]; incremental: string[] };
}

test('a FIFO as a log, or a link to one, is refused at once (not read, no hang)', () => {
  const h = hostileFiles('status-fifo');
  assert.equal(read([h.fifo, h.fifoLink]), { logs: ['ENOTREG', 'ENOTREG'], incremental: ['ENOTREG', 'ENOTREG'] });
});

test("an unreadable log's message says what is wrong in words, not by its code", async () => {
  const { unreadableDiagnostics, bmcUnreadableDiagnostics } = await import('../src/status/index.ts');
  for (const d of [
    ...unreadableDiagnostics([{ file: 'a.log', problem: 'ENOTREG' }]),
    ...bmcUnreadableDiagnostics([{ file: 'b.log', problem: 'ENOTREG' }]),
  ]) {
    assert.match(d.message, 'not a regular file: a FIFO, a socket or a device');
    assert.not.match(d.message, 'ENOTREG');
  }
  assert.match(unreadableDiagnostics([{ file: 'a.log', problem: 'ENOENT' }])[0]!.message, '(no such file)');
});

test('a link to /dev/zero is refused, never read', () => {
  const h = hostileFiles('status-zero');
  assert.equal(read([h.zero]), { logs: ['ENOTREG'], incremental: ['ENOTREG'] });
});

test('a gzip that unpacks past the bound, and a log over it, are refused as EFBIG; under it they are read', () => {
  const dir = tempDir('status-gzip');
  const bomb = join(dir, 'bomb.log.gz');
  gzipBomb(bomb, 4 * 1024 * 1024);
  const big = join(dir, 'big.log');
  writeFileSync(big, Buffer.alloc(2 * 1024 * 1024, 0x0a));
  assert.equal(read([bomb, big], 1024 * 1024), { logs: ['EFBIG', 'EFBIG'], incremental: ['EFBIG', 'EFBIG'] });
  assert.equal(read([bomb, big], 8 * 1024 * 1024), { logs: [], incremental: [] });
});

test("a FIFO in a site's log directory is listed, so that it is reported; a directory is not", () => {
  const dir = tempDir('status-dir');
  fifo(join(dir, 'access.log'));
  writeFileSync(join(dir, 'access.log.1'), '');
  mkdirSync(join(dir, 'old.log.d'));
  assert.equal(siteLogs(dir), [join(dir, 'access.log'), join(dir, 'access.log.1')]);
});

test.run();
