// `harvgen status --bmc-log` (src/status/bmc-log.ts): the log the generated BMC scripts append to
// (HARVGEN_BMC_LOG, six tab-separated fields), read as anyone's file: malformed lines counted and
// skipped, control characters replaced, nodes of no site ignored, the newest line of each node
// shown; through the library and the binary (text and --json), and an unreadable log.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status } from '../src/status/index.ts';
import { parseBmcLine, parseBmcLog, readBmcLogs, MAX_BMC_LINE, MAX_BMC_MESSAGE } from '../src/status/bmc-log.ts';
import { bmcLine } from '../src/status/text.ts';
import type { NodeStatus } from '../src/status/types.ts';
import { assertJson } from './helpers/cli-spawn.ts';
import { runCli } from './helpers/cli.ts';
import { byHost, logs, site } from './helpers/status.ts';
import { tempDir } from './helpers/tmp.ts';

const OK = 'boots from the network once at its next start (Redfish Pxe, Once, UEFI; read back)';
const bl = (time: string, s: string, node: string, action: string, exit: number | string, message: string) =>
  [time, s, node, action, String(exit), message].join('\t');

test('a line of the six fields is read; its time is UTC milliseconds', () => {
  const l = parseBmcLine(bl('2026-11-25T01:30:00Z', 'location_y', 'hv-1', 'pxe-once', 0, OK));
  assert.equal(l, {
    time: Date.UTC(2026, 10, 25, 1, 30, 0),
    site: 'location_y',
    node: 'hv-1',
    action: 'pxe-once',
    exit: 0,
    message: OK,
  });
  assert.is(parseBmcLine(bl('2026-11-25T01:30:00Z', 's', 'n', 'virtual-media', 3, ''))?.message, '');
});

test('malformed lines are no line: field count, time, action, exit, empty names, overlong', () => {
  const bad = [
    '',
    'not a log line at all',
    ['2026-11-25T01:30:00Z', 's', 'n', 'pxe-once', '0'].join('\t'), // 5 fields
    `${bl('2026-11-25T01:30:00Z', 's', 'n', 'pxe-once', 0, 'a')}\textra`, // 7 fields: a tab in the message
    bl('2026-11-25 01:30:00', 's', 'n', 'pxe-once', 0, 'a'),
    bl('2026-11-25T01:30:00+01:00', 's', 'n', 'pxe-once', 0, 'a'),
    bl('2026-02-30T01:30:00Z', 's', 'n', 'pxe-once', 0, 'a'), // no such day
    bl('2026-11-25T24:00:00Z', 's', 'n', 'pxe-once', 0, 'a'),
    bl('2026-11-25T01:30:00Z', '', 'n', 'pxe-once', 0, 'a'),
    bl('2026-11-25T01:30:00Z', 's', '', 'pxe-once', 0, 'a'),
    bl('2026-11-25T01:30:00Z', 's', 'n', 'PXE-ONCE', 0, 'a'),
    bl('2026-11-25T01:30:00Z', 's', 'n', 'pxe once', 0, 'a'),
    bl('2026-11-25T01:30:00Z', 's', 'n', 'pxe-once', 'x', 'a'),
    bl('2026-11-25T01:30:00Z', 's', 'n', 'pxe-once', -1, 'a'),
    bl('2026-11-25T01:30:00Z', 's', 'n', 'pxe-once', 256, 'a'),
    bl('2026-11-25T01:30:00Z', 's', 'n', 'pxe-once', 0, 'x'.repeat(MAX_BMC_LINE)),
  ];
  for (const line of bad) assert.is(parseBmcLine(line), undefined, JSON.stringify(line.slice(0, 80)));
  const text = [...bad.slice(1), bl('2026-11-25T01:30:00Z', 's', 'n', 'power-cycle', 1, 'refused')].join('\n');
  const r = parseBmcLog(text);
  assert.is(r.skipped, bad.length - 1, 'the empty line is not counted');
  assert.equal(
    r.lines.map((l) => [l.action, l.exit]),
    [['power-cycle', 1]],
  );
});

test('hostile control characters in a message are replaced; a long message is cut short; CRLF is tolerated', () => {
  const evil = 'ok\u001b[2J\u001b]0;pwned\u0007 \u0085next\u2028line\u0000\u202eeb';
  const l = parseBmcLine(bl('2026-11-25T01:30:00Z', 's', 'n', 'pxe-once', 0, evil))!;
  assert.is(l.message, 'ok?[2J?]0;pwned? ?next?line??eb');
  assert.not.match(l.message, /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
  const long = parseBmcLine(bl('2026-11-25T01:30:00Z', 's', 'n', 'pxe-once', 0, 'y'.repeat(5000)))!;
  assert.is(long.message.length, MAX_BMC_MESSAGE);
  assert.ok(long.message.endsWith('...'));
  const crlf = parseBmcLog(`${bl('2026-11-25T01:30:00Z', 's', 'n', 'pxe-once', 0, 'done')}\r\n`);
  assert.equal([crlf.skipped, crlf.lines[0]?.message], [0, 'done']);
});

/** A site of seven nodes (test/helpers/status.ts: never boot disk inst done fail loop), named `st`, and a second one, `other`. */
function sites() {
  const root = tempDir('bmc-log');
  return { root, st: site('st', root), other: site('other', root) };
}

const BMC = [
  bl('2026-11-25T01:00:00Z', 'st', 'done', 'pxe-once', 1, 'the BMC refused the PATCH (401)'),
  bl('2026-11-25T01:30:00Z', 'st', 'done', 'pxe-once', 0, OK),
  // Older, later in the file: not the newest.
  bl('2026-11-25T00:30:00Z', 'st', 'done', 'power-cycle', 0, 'PowerState On'),
  bl('2026-11-25T01:10:00Z', 'st', 'fail', 'http-boot-once', 3, 'HttpBootUri reads "" (wanted http://boot/x.efi)'),
  bl('2026-11-25T01:10:00Z', 'st', 'inst', 'virtual-media', 2, 'missing credentials'),
  // Same second: the later line wins.
  bl('2026-11-25T01:20:00Z', 'st', 'loop', 'pxe-once', 1, 'first of the second'),
  bl('2026-11-25T01:20:00Z', 'st', 'loop', 'power-cycle', 0, 'second of the second'),
  // Another site's node of the same name, and a node the site does not have.
  bl('2026-11-25T02:00:00Z', 'other', 'done', 'virtual-media', 0, 'other site'),
  bl('2026-11-25T02:00:00Z', 'st', 'ghost', 'pxe-once', 0, 'no such node'),
  bl('2026-11-25T02:00:00Z', 'st', 'done\u001b[31m', 'pxe-once', 0, 'a hostile name'),
  'garbage',
];

test('the newest line of each node wins (ties: the later line); other sites and unknown nodes are left out and counted', async () => {
  const { root, st } = sites();
  const log = join(root, 'bmc.log');
  writeFileSync(log, `${BMC.join('\n')}\n`);
  const r = await status({ sites: [st], logs: [], bmcLogs: [log] });
  assert.equal(r.diagnostics, []);
  const n = byHost(r.nodes);
  assert.equal(n.done!.bmc, { time: '2026-11-25T01:30:00.000Z', action: 'pxe-once', exit: 0, message: OK });
  assert.equal([n.fail!.bmc?.action, n.fail!.bmc?.exit], ['http-boot-once', 3]);
  assert.equal([n.inst!.bmc?.action, n.inst!.bmc?.exit], ['virtual-media', 2]);
  assert.is(n.loop!.bmc?.message, 'second of the second');
  assert.is(n.never!.bmc, undefined);
  assert.not.ok('bmc' in n.never!, 'absent, not undefined, for a node without a line');
  assert.equal(r.bmc, { lines: BMC.length - 1, skipped: 1, unknown_nodes: 2, cut: [] });
});

test('several sites share one log; the later file wins a tie; gzipped logs are read; no --bmc-log leaves the result as it was', async () => {
  const { root, st, other } = sites();
  const a = join(root, 'bmc.log.1.gz');
  const b = join(root, 'bmc.log');
  writeFileSync(a, gzipSync(`${BMC.join('\n')}\n`));
  writeFileSync(b, `${bl('2026-11-25T01:30:00Z', 'st', 'done', 'power-cycle', 1, 'timed out')}\n`);
  const r = await status({ sites: [st, other], logs: [], bmcLogs: [a, b] });
  assert.equal(r.diagnostics, []);
  const get = (s: string, h: string) => r.nodes.find((x) => x.site === s && x.hostname === h)?.bmc;
  assert.equal([get('st', 'done')?.action, get('st', 'done')?.exit], ['power-cycle', 1]);
  assert.is(get('other', 'done')?.message, 'other site');
  assert.is(get('other', 'fail'), undefined);
  const plain = await status({ sites: [st], logs: [] });
  assert.is(plain.bmc, undefined);
  assert.ok(plain.nodes.every((x) => !('bmc' in x)));
});

test('a log larger than the limit is read from its newest bytes, its first partial line dropped', () => {
  const dir = tempDir('bmc-cut');
  const file = join(dir, 'bmc.log');
  const lines = Array.from({ length: 50 }, (_, i) =>
    bl(`2026-11-25T01:${String(i).padStart(2, '0')}:00Z`, 's', 'n', 'pxe-once', 0, `run ${i}`),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = readBmcLogs([file], 1000);
  assert.equal(r.cut, [file]);
  assert.is(r.skipped, 0, 'the cut line is not counted as malformed');
  assert.ok(r.lines.length > 5 && r.lines.length < 50, String(r.lines.length));
  assert.is(r.lines.at(-1)?.message, 'run 49');
  const whole = readBmcLogs([file]);
  assert.equal([whole.cut, whole.lines.length], [[], 50]);
  // As many short lines as the limit holds: no argument-count limit of the runtime is hit.
  const many = join(dir, 'many.log');
  const short = `${bl('2026-11-25T01:00:00Z', 's', 'n', 'pxe-once', 0, '')}\n`;
  writeFileSync(many, short.repeat(Math.floor((16 * 1024 * 1024) / short.length)));
  const r2 = readBmcLogs([many]);
  assert.equal([r2.unreadable, r2.skipped, r2.cut], [[], 0, []]);
  assert.ok(r2.lines.length > 400_000, String(r2.lines.length));
});

test('an unreadable BMC log is STATUS_BMC_LOG_UNREADABLE with a hint; the other logs are still read', async () => {
  const { root, st } = sites();
  const good = join(root, 'bmc.log');
  writeFileSync(good, `${BMC.join('\n')}\n`);
  const dir = join(root, 'a-dir');
  mkdirSync(dir);
  const r = await status({ sites: [st], logs: [], bmcLogs: [join(root, 'nope.log'), dir, good] });
  assert.equal(
    r.diagnostics.map((d) => [d.code, d.severity, d.file]),
    [
      ['STATUS_BMC_LOG_UNREADABLE', 'error', join(root, 'nope.log')],
      ['STATUS_BMC_LOG_UNREADABLE', 'error', dir],
    ],
  );
  assert.match(r.diagnostics[0]!.hint ?? '', /HARVGEN_BMC_LOG/);
  assert.match(r.diagnostics[1]!.hint ?? '', /directory/);
  assert.is(byHost(r.nodes).done!.bmc?.action, 'pxe-once');
  const gz = join(root, 'cut.gz');
  writeFileSync(gz, gzipSync('x'.repeat(10_000)).subarray(0, 20));
  assert.equal(readBmcLogs([gz]).unreadable.length, 1);
});

test('the text line says ok, NOT APPLIED (exit 3) or FAILED (exit n)', () => {
  const at = '2026-11-25T01:30:00.000Z';
  assert.is(bmcLine({ time: at, action: 'pxe-once', exit: 0, message: OK }), `bmc pxe-once ok 2026-11-25 01:30:00: ${OK}`);
  assert.is(
    bmcLine({ time: at, action: 'http-boot-once', exit: 3, message: 'm' }),
    'bmc http-boot-once NOT APPLIED (exit 3) 2026-11-25 01:30:00: m',
  );
  assert.is(bmcLine({ time: at, action: 'power-cycle', exit: 1, message: 'm' }), 'bmc power-cycle FAILED (exit 1) 2026-11-25 01:30:00: m');
  assert.is(
    bmcLine({ time: at, action: 'virtual-media', exit: 2, message: 'm' }),
    'bmc virtual-media FAILED (exit 2) 2026-11-25 01:30:00: m',
  );
});

test('the CLI: a bmc line under each node that has one, the rest byte-identical to a run without --bmc-log', () => {
  const { root, st } = sites();
  const access = join(root, 'access.log');
  writeFileSync(access, `${logs().join('\n')}\n`);
  const bmc = join(root, 'bmc.log');
  writeFileSync(bmc, `${BMC.join('\n')}\n`);
  const plain = runCli(['status', st, '--log', access]);
  assert.is(plain.code, 0, plain.stderr);
  const r = runCli(['status', st, '--log', access, '--bmc-log', bmc]);
  assert.is(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(`^done +installed .*\\n {10}bmc pxe-once ok 2026-11-25 01:30:00: ${OK.replace(/[()]/g, '\\$&')}$`, 'm'),
  );
  assert.match(r.stdout, /^fail +failed .*\n {10}bmc http-boot-once NOT APPLIED \(exit 3\) 2026-11-25 01:10:00: HttpBootUri reads/m);
  assert.match(r.stdout, /^inst +installing .*\n {10}bmc virtual-media FAILED \(exit 2\) 2026-11-25 01:10:00: missing credentials$/m);
  assert.not.match(r.stdout, /\u001b/);
  const without = r.stdout
    .split('\n')
    .filter((l) => !/^ +bmc /.test(l))
    .join('\n');
  assert.is(without, plain.stdout, 'only the bmc lines are added');
  assert.is(r.stdout.split('\n').filter((l) => /^ +bmc /.test(l)).length, 4);
  assert.match(r.stderr, /BMC log: 10 line\(s\) read, 1 not of its shape \(skipped\), 2 naming no node of their site \(ignored\)/);
  assert.not.match(plain.stderr, /BMC log/);
  // Alone, without an access log.
  const alone = runCli(['status', st, '--bmc-log', bmc]);
  assert.is(alone.code, 0, alone.stderr);
  assert.match(alone.stdout, /^ {10}bmc pxe-once ok /m);
  assert.match(alone.stderr, /no access log given \(--log\)/);
  const fleet = runCli(['status', st, '--log-dir', root, '--bmc-log', bmc]);
  assert.is(fleet.code, 2);
  assert.match(fleet.stderr, /--bmc-log is read with --log/);
});

test('the CLI --json: a bmc object per node that has one, bmc_log counts, the schema holds; an unreadable log exits 2', () => {
  const { root, st } = sites();
  const access = join(root, 'access.log');
  writeFileSync(access, `${logs().join('\n')}\n`);
  const bmc = join(root, 'bmc.log');
  writeFileSync(bmc, `${BMC.join('\n')}\n`);
  const r = runCli(['status', st, '--log', access, '--bmc-log', bmc, '--json']);
  assert.is(r.code, 0, r.stderr);
  const doc = assertJson<{ nodes: NodeStatus[]; bmc_log: unknown; ok: boolean }>(r.stdout, 'status --bmc-log --json');
  const n = byHost(doc.nodes);
  assert.equal(n.done!.bmc, { time: '2026-11-25T01:30:00.000Z', action: 'pxe-once', exit: 0, message: OK });
  assert.equal(n.fail!.bmc?.exit, 3);
  assert.not.ok('bmc' in n.never!);
  assert.equal(doc.bmc_log, { lines: 10, skipped: 1, unknown_nodes: 2, cut: [] });
  const plain = runCli(['status', st, '--log', access, '--json']);
  assert.not.match(plain.stdout, /"bmc/);
  const missing = runCli(['status', st, '--log', access, '--bmc-log', join(root, 'nope.log'), '--json']);
  assert.is(missing.code, 2);
  const bad = assertJson<{ ok: boolean; diagnostics: { code: string; hint?: string }[] }>(
    missing.stdout,
    'status --json, unreadable BMC log',
  );
  assert.is(bad.ok, false);
  assert.equal(
    bad.diagnostics.map((d) => d.code),
    ['STATUS_BMC_LOG_UNREADABLE'],
  );
  const text = runCli(['status', st, '--log', access, '--bmc-log', join(root, 'nope.log')]);
  assert.is(text.code, 2);
  assert.match(text.stderr, /STATUS_BMC_LOG_UNREADABLE/);
  assert.match(text.stderr, /HARVGEN_BMC_LOG/);
});

test.run();
