// `status --state` (src/status/state.ts, cursor.ts, tally.ts): a run reads only what the logs
// gained since the last one and merges it with the tally it saved, so that its answer is the
// answer of a run over every line. Random splits of a log (mid-line too), rotations as logrotate
// does them (rename, delayed gzip, copytruncate), an unreadable log (nothing saved), a changed
// inventory (the saved tally not merged).
import { appendFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status, type StatusResult } from '../src/status/index.ts';
import { readIncremental } from '../src/status/cursor.ts';
import { parseLine } from '../src/status/log.ts';
import { install, line, logs, site, sortedLog } from './helpers/status.ts';
import { prng } from './helpers/prng.ts';

/** What an incremental run must agree on with a full one. */
const answer = (r: StatusResult) => ({
  nodes: r.nodes,
  unknown: r.unknown,
  requests: r.requests,
  verifyRequests: r.verifyRequests,
  skipped: r.skipped,
});

/** The files of a log directory, current first (access.log, access.log.1, access.log.2.gz, ...). */
function files(dir: string): string[] {
  const rank = (n: string) => (n === 'access.log' ? 0 : Number(/\.(\d+)/.exec(n)?.[1] ?? 99));
  return readdirSync(dir)
    .filter((n) => n.startsWith('access.log'))
    .sort((a, b) => rank(a) - rank(b))
    .map((n) => join(dir, n));
}

/** logrotate with delaycompress: .N.gz -> .N+1.gz, .1 -> .2.gz (compressed), access.log -> .1, a new access.log. */
function rotate(dir: string): void {
  const gz = readdirSync(dir)
    .map((n) => /^access\.log\.(\d+)\.gz$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  for (const n of gz) renameSync(join(dir, `access.log.${n}.gz`), join(dir, `access.log.${n + 1}.gz`));
  if (existsSync(join(dir, 'access.log.1'))) {
    writeFileSync(join(dir, 'access.log.2.gz'), gzipSync(readFileSync(join(dir, 'access.log.1'))));
    rmSync(join(dir, 'access.log.1'));
  }
  renameSync(join(dir, 'access.log'), join(dir, 'access.log.1'));
  writeFileSync(join(dir, 'access.log'), '');
}

test('random splits of a log, with rotations: every incremental run ends with the answer of a full run', async () => {
  const text = sortedLog();
  assert.ok(text.length > 8192, 'the log is longer than the 4 KiB head a cursor hashes');
  let totalRotations = 0;
  let gzipped = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const rnd = prng(seed);
    const dir = site();
    const logDir = join(dir, '..', 'logs');
    const state = join(dir, '..', 'state');
    rmSync(logDir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(logDir);
    writeFileSync(join(logDir, 'access.log'), '');
    // Most cuts at a line's end (where logrotate may move the log), the others anywhere in a line.
    const cut = () => {
      const at = Math.floor(rnd() * text.length);
      return rnd() < 0.7 ? text.indexOf('\n', at) + 1 : at;
    };
    const cuts = [...new Set(Array.from({ length: 2 + Math.floor(rnd() * 6) }, cut))].filter((c) => c > 0).sort((a, b) => a - b);
    let from = 0;
    let rotations = 0;
    for (const cut of [...cuts, text.length]) {
      appendFileSync(join(logDir, 'access.log'), text.slice(from, cut));
      from = cut;
      const r = await status({ sites: [dir], logs: files(logDir), state });
      assert.equal(r.diagnostics, [], `seed ${seed}`);
      // At a line's end the logs hold whole lines only: the answer is already a full run's.
      if (text[cut - 1] === '\n') {
        assert.equal(answer(r), answer(await status({ sites: [dir], logs: files(logDir) })), `seed ${seed}, cut ${cut}`);
        // nginx writes whole lines: logrotate moves the log only between two of them.
        if (rnd() < 0.6) (rotate(logDir), rotations++);
      }
    }
    const last = await status({ sites: [dir], logs: files(logDir), state });
    const full = await status({ sites: [dir], logs: files(logDir) });
    assert.ok(full.nodes.some((n) => n.verdict === 'installed') && full.requests > 100, 'the full run has something to agree on');
    assert.equal(answer(last), answer(full), `seed ${seed} (cuts ${cuts.join(',')})`);
    totalRotations += rotations;
    gzipped += files(logDir).filter((f) => f.endsWith('.gz')).length;
  }
  // The seeds rotated, and compressed logs that had been read plain.
  assert.ok(totalRotations >= 12 && gzipped >= 6, `rotations ${totalRotations}, gzipped files ${gzipped}`);
});

test('a rerun reads only the new bytes; a gzipped log already read is not unpacked again', async () => {
  const dir = site();
  const log = join(dir, '..', 'access.log');
  const text = sortedLog();
  const half = text.indexOf('\n', text.length >> 1) + 1;
  writeFileSync(log, text.slice(0, half));
  const first = await readIncremental([log]);
  assert.is(first.bytes, half);
  appendFileSync(log, text.slice(half));
  const second = await readIncremental([log], first.cursors);
  assert.is(second.bytes, text.length - half);
  assert.is(first.list.length + second.list.length, text.split('\n').filter((l) => parseLine(l, '')).length);
  // Compressed copy of what was read: matched by its first bytes, nothing new.
  const gz = join(dir, '..', 'access.log.2.gz');
  writeFileSync(gz, gzipSync(text));
  rmSync(log);
  const third = await readIncremental([gz], second.cursors);
  assert.is(third.list.length, 0);
  assert.is(third.bytes, 0);
  // Known by its inode and size: read once, not unpacked (a corrupt body past the header would throw).
  const bytes = readFileSync(gz);
  bytes.fill(0, 20, bytes.length - 8);
  writeFileSync(gz, bytes);
  const fourth = await readIncremental([gz], third.cursors);
  assert.equal(fourth.unreadable, []);
  assert.is(fourth.list.length, 0);
});

test('copytruncate: the copy is matched by its content, the truncated log read from its start', async () => {
  const dir = site();
  const state = join(dir, '..', 'state');
  const log = join(dir, '..', 'access.log');
  const copy = join(dir, '..', 'access.log.1');
  const text = sortedLog();
  const half = text.indexOf('\n', text.length >> 1) + 1;
  writeFileSync(log, text.slice(0, half));
  await status({ sites: [dir], logs: [log], state });
  writeFileSync(copy, readFileSync(log));
  truncateSync(log, 0);
  appendFileSync(log, text.slice(half));
  const r = await status({ sites: [dir], logs: [log, copy], state });
  assert.equal(answer(r), answer(await status({ sites: [dir], logs: [log, copy] })));
});

test('nothing is saved when a log cannot be read; a changed inventory is not merged, the logs are read again', async () => {
  const dir = site();
  const state = join(dir, '..', 'state');
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, sortedLog());
  const bad = await status({ sites: [dir], logs: [log, join(dir, 'nope.log')], state });
  assert.equal(
    bad.diagnostics.map((d) => d.code),
    ['STATUS_LOG_UNREADABLE'],
  );
  assert.not.ok(existsSync(join(state, 'logs.json')), 'no state after a failed run');
  const ok = await status({ sites: [dir], logs: [log], state });
  assert.ok(existsSync(join(state, 'logs.json')));
  assert.equal(answer(ok), answer(await status({ sites: [dir], logs: [log] })));
  assert.equal(readdirSync(state).sort(), ['logs.json'], 'no temporary file or lock left');
  // Node `boot` gets another MAC: the saved tally was made for another inventory.
  const yaml = readFileSync(join(dir, 'site.yaml'), 'utf8').replace('mac: 52:54:00:00:00:02', 'mac: 52:54:00:00:00:22');
  writeFileSync(join(dir, 'site.yaml'), yaml);
  const changed = await status({ sites: [dir], logs: [log], state });
  assert.ok(
    changed.notes?.some((n) => /not merged \(the site's nodes, addresses or names changed since\)/.test(n)),
    String(changed.notes),
  );
  assert.equal(answer(changed), answer(await status({ sites: [dir], logs: [log] })));
  // A state file that is not one is not merged either, and is replaced.
  writeFileSync(join(state, 'logs.json'), '{"format":1,"sites":{}');
  const garbled = await status({ sites: [dir], logs: [log], state });
  assert.ok(garbled.notes?.some((n) => /not a state file/.test(n)));
  assert.equal(answer(garbled), answer(changed));
});

test('the events of an install split over two runs give the same verdict as one run', async () => {
  const dir = site();
  const state = join(dir, '..', 'state');
  const log = join(dir, '..', 'access.log');
  const lines = install('loop', 7, 10, ['STARTED', 'SUCCEEDED']);
  writeFileSync(log, `${lines.join('\n')}\n`);
  const one = await status({ sites: [dir], logs: [log], state });
  assert.is(one.nodes.find((n) => n.hostname === 'loop')!.verdict, 'installed');
  appendFileSync(
    log,
    `${line('10.0.0.17', 40, '/ipxe/52-54-00-00-00-07.ipxe', 200)}\n${line('10.0.0.17', 43, '/harvester/loop.yaml', 200)}\n`,
  );
  const two = await status({ sites: [dir], logs: [log], state });
  // The SUCCEEDED was read in the first run: only the saved tally knows it, and the loop needs it.
  assert.is(two.nodes.find((n) => n.hostname === 'loop')!.verdict, 'loop');
  assert.equal(answer(two), answer(await status({ sites: [dir], logs: [log] })));
  void logs;
});

test.run();
