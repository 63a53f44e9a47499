// `harvgen status` (src/status/): synthetic nginx logs, one node per verdict, read through the
// library (the CLI: test/cli-status.test.ts); forged events, refused files, unknown MACs with their reports, gzipped
// and rotated logs, --since, an unreadable log. The log of a real nginx serving QEMU boots is
// read in test/real/boot.test.ts.
import { gzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { status, parseSince } from '../src/status/index.ts';
import { compileSite } from '../src/index.ts';
import { parseLine } from '../src/status/log.ts';
import { site, T0, line, install, logs, byHost } from './helpers/status.ts';

test('parseLine reads the combined format with its time zone, query and status', () => {
  const r = parseLine('10.0.0.1 - - [23/Nov/2026:11:00:00 +0100] "GET /a%20b?x=1&y=%2F HTTP/1.1" 204 0 "-" "-"', 'f:1')!;
  assert.equal({ ...r }, { ip: '10.0.0.1', time: T0, method: 'GET', path: '/a b', query: { x: '1', y: '/' }, status: 204, from: 'f:1' });
  assert.is(parseLine('garbage', 'f:2'), undefined);
  assert.is(parseSince('2h', T0), T0 - 7_200_000);
  assert.is(parseSince('2026-11-23T10:00:00Z', 0), T0);
  assert.is(parseSince('yesterday', 0), undefined);
});

test('one verdict per node: never-booted, booting, local, installing, installed, failed, loop', async () => {
  const dir = site();
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${logs().join('\n')}\n`);
  const r = await status({ sites: [dir], logs: [log] });
  assert.equal(r.diagnostics, []);
  const n = byHost(r.nodes);
  assert.equal(Object.fromEntries(Object.entries(n).map(([h, s]) => [h, s.verdict])), {
    never: 'never-booted',
    boot: 'booting',
    disk: 'local',
    inst: 'installing',
    done: 'installed',
    fail: 'failed',
    loop: 'loop',
  });
  assert.is(r.skipped, 1);
  // The forged event is shown, not believed.
  assert.equal(
    n.inst!.events.map((e) => [e.event, e.accepted]),
    [
      ['STARTED', true],
      ['SUCCEEDED', false],
    ],
  );
  assert.ok(n.inst!.problems.some((p) => /SUCCEEDED event .* from 10\.0\.0\.99, which is not the node's address: ignored/.test(p)));
  // Files attributed by the address that fetched the node's script.
  assert.equal(n.done!.fetches.kernel, { count: 1, last: '2026-11-23T10:11:00.000Z', status: 200, ip: '10.0.0.15' });
  assert.is(n.done!.installs, 1);
  assert.is(n.loop!.installs, 1);
  assert.ok(n.loop!.problems.some((p) => /started installing again within 60 min/.test(p)));
  assert.ok(n.boot!.problems.some((p) => /config refused \(403\) .* from 10\.0\.0\.150/.test(p)));
  assert.equal(n.disk!.last_boot, { time: '2026-11-23T10:06:00.000Z', ip: '10.0.0.13', mac: '52:54:00:00:00:03', status: 200 });
  assert.equal(r.unknown, [
    {
      site: 'st',
      mac: '52:54:00:ff:00:01',
      first: '2026-11-23T10:08:00.000Z',
      last: '2026-11-23T10:08:00.000Z',
      requests: 2,
      ips: ['10.0.0.160'],
      report: {
        uuid: '4c4c4544-0042-3510-8051-b2c04f4e3732',
        serial: 'SN 123',
        manufacturer: 'Dell Inc.',
        product: 'PowerEdge R650',
        platform: 'efi',
      },
    },
  ]);
});

test('keyed names (nginx.file_key): configs match their node by the tagged name; a fetch of the plain script name is the stub, a problem, not a boot', async () => {
  const dir = site();
  writeFileSync(join(dir, 'site.yaml'), `${readFileSync(join(dir, 'site.yaml'), 'utf8')}nginx:\n  file_key: { env: HARVGEN_FILE_KEY }\n`);
  const x = 'x'.repeat(32);
  const log = join(dir, '..', 'access.log');
  writeFileSync(
    log,
    [
      line('10.0.0.14', 10, `/ipxe/52-54-00-00-00-04-${x}.ipxe`, 200),
      line('10.0.0.14', 11, `/harvester/inst-${x}.yaml`, 200),
      line('10.0.0.12', 12, '/ipxe/52-54-00-00-00-02.ipxe', 200),
      // A forged terminal escape and line in what an unknown machine reports.
      line('10.0.0.160', 13, '/harvgen-discover?mac=52-54-00-ff-00-09&serial=%1b%5b2J%0aFAKE%E2%80%AEkcab', 200),
    ].join('\n') + '\n',
  );
  const r = await status({ sites: [dir], logs: [log] });
  const n = byHost(r.nodes);
  assert.is(n.inst!.verdict, 'installing');
  assert.is(n.inst!.fetches.config?.status, 200);
  assert.is(n.boot!.verdict, 'never-booted');
  assert.ok(
    n.boot!.problems.some((p) => /fetched the stub at its plain script name/.test(p)),
    JSON.stringify(n.boot),
  );
  assert.is(r.unknown.find((u) => u.mac === '52:54:00:ff:00:09')?.report?.serial, '?[2J?FAKE?kcab'); // and a bidirectional override
});

test('a loop mended (an install since that stayed installed) is no longer a loop', async () => {
  const dir = site();
  const log = join(dir, '..', 'access.log');
  writeFileSync(
    log,
    `${[...install('loop', 7, 10, ['STARTED', 'SUCCEEDED']), ...install('loop', 7, 30, ['STARTED', 'SUCCEEDED'])].join('\n')}\n`,
  );
  const looping = byHost((await status({ sites: [dir], logs: [log] })).nodes);
  // The second install finished; nothing started after it: installed, though it looped before.
  assert.is(looping.loop!.verdict, 'installed');
  assert.is(looping.loop!.installs, 2);
});

test('rotated and gzipped logs of several servers merge in time order; --since drops older requests', async () => {
  const dir = site();
  const all = logs();
  const a = join(dir, '..', 'access.log.2.gz');
  const b = join(dir, '..', 'access.log');
  writeFileSync(a, gzipSync(`${all.slice(0, 20).join('\n')}\n`));
  writeFileSync(b, `${all.slice(20).join('\n')}\n`);
  const whole = byHost((await status({ sites: [dir], logs: [b, a] })).nodes);
  assert.is(whole.loop!.verdict, 'loop');
  assert.is(whole.done!.verdict, 'installed');
  // Since 10:30 only loop's second install is left: it is installing, and the others have no request.
  const late = byHost((await status({ sites: [dir], logs: [a, b], since: T0 + 30 * 60_000 })).nodes);
  assert.is(late.loop!.verdict, 'installing');
  assert.is(late.done!.verdict, 'never-booted');
});

test("the configs ask the installer for its events; boot.report: false leaves them out; a node's own webhooks are kept first", async () => {
  const dir = site();
  const text = readFileSync(join(dir, 'site.yaml'), 'utf8');
  const configs = async (yaml: string) => {
    writeFileSync(join(dir, 'site.yaml'), yaml);
    const r = await compileSite(dir);
    assert.ok(r.artifacts, JSON.stringify(r.diagnostics));
    return (h: string) =>
      parse(r.artifacts!.find((a) => a.path === `harvester/${h}.yaml`)!.contents as string) as { install: { webhooks?: unknown[] } };
  };
  const on = await configs(text);
  assert.equal(on('done').install.webhooks, [
    { event: 'STARTED', method: 'GET', url: 'http://10.0.0.1/harvgen-events/done/STARTED?mac={{.MACAddr}}&ip={{.IPAddrV4}}' },
    { event: 'SUCCEEDED', method: 'GET', url: 'http://10.0.0.1/harvgen-events/done/SUCCEEDED?mac={{.MACAddr}}&ip={{.IPAddrV4}}' },
    { event: 'FAILED', method: 'GET', url: 'http://10.0.0.1/harvgen-events/done/FAILED?mac={{.MACAddr}}&ip={{.IPAddrV4}}' },
  ]);
  const off = await configs(text.replace('boot:\n', 'boot:\n  report: false\n'));
  assert.is(off('done').install.webhooks, undefined);
  const own = { event: 'SUCCEEDED', method: 'POST', url: 'https://cmdb.example/installed' };
  const mine = await configs(
    text.replace(
      '    state: install\n    role: join\n',
      `    state: install\n    role: join\n    config: { install: { webhooks: [${JSON.stringify(own)}] } }\n`,
    ),
  );
  const hooks = mine('boot').install.webhooks!;
  assert.equal(hooks[0], own);
  assert.is(hooks.length, 4);
});

test.run();
