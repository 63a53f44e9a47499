// `status --log-dir` over several sites (src/status/fleet.ts): a site at a time, a summary each
// (counts per verdict, the nodes never booted N hours after the site's deploy, by the rule
// --deployed-at, else state.json's switched_at, else the built manifest.json's mtime); with
// --state the summaries of an incremental run equal a full run's. The metrics
// (src/status/metrics.ts) read back by a parser of the text exposition format written here.
import { appendFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statusFleet, type FleetOptions, type FleetSite, type SiteSummary } from '../src/status/fleet.ts';
import { escapeLabel, metricsText } from '../src/status/metrics.ts';
import { lockState } from '../src/status/lock.ts';
import { site, sortedLog, T0 } from './helpers/status.ts';
import { tempDir } from './helpers/tmp.ts';

async function all(o: FleetOptions): Promise<FleetSite[]> {
  const out: FleetSite[] = [];
  for await (const s of statusFleet(o)) out.push(s);
  return out;
}

/** Sites a, b, c in one repository; a and b have logs in <root>/logs/<site>/, c has none. */
function fleet(): { root: string; dirs: string[]; logDir: string; outDir: string } {
  const root = tempDir('status-fleet');
  const dirs = ['a', 'b', 'c'].map((n) => site(n, join(root, 'sites')));
  const logDir = join(root, 'logs');
  for (const n of ['a', 'b']) {
    mkdirSync(join(logDir, n), { recursive: true });
    writeFileSync(join(logDir, n, 'access.log'), sortedLog());
  }
  return { root, dirs, logDir, outDir: join(root, 'out') };
}

const HOUR = 3_600_000;
const NOW = T0 + 48 * HOUR;

test('a summary per site: counts per verdict, the nodes never booted 24 h after the deploy, the deploy time by its rule', async () => {
  const { dirs, logDir, outDir } = fleet();
  // b's materializer switched 2 h before now: too recent to call its nodes never booted.
  writeFileSync(
    join(logDir, 'b', 'state.json'),
    JSON.stringify({ format: 1, site: 'b', switched_at: new Date(NOW - 2 * HOUR).toISOString() }),
  );
  // a has no state.json: its built manifest's mtime, 30 h before now.
  mkdirSync(join(outDir, 'a'), { recursive: true });
  writeFileSync(join(outDir, 'a', 'manifest.json'), '{}');
  utimesSync(join(outDir, 'a', 'manifest.json'), (NOW - 30 * HOUR) / 1000, (NOW - 30 * HOUR) / 1000);
  const r = await all({ sites: dirs, logDir, outDir, now: NOW });
  const [a, b, c] = r.map((s) => s.summary) as [SiteSummary, SiteSummary, SiteSummary];
  assert.equal(a.verdicts, { 'never-booted': 1, booting: 1, local: 1, booted: 0, installing: 1, installed: 2, failed: 0, loop: 1 });
  // (fail's second install succeeded in the longer log.)
  assert.is(a.nodes, 7);
  assert.is(a.deployed_from, 'manifest.json');
  assert.equal(a.never_booted, ['never']);
  assert.is(b.deployed_from, 'state.json');
  assert.equal(b.never_booted, [], 'deployed 2 h ago');
  assert.is(b.verdicts['never-booted'], 1);
  assert.is(a.unknown, 2);
  assert.ok(a.requests > 100 && a.verify_requests === 1, JSON.stringify(a));
  assert.equal(
    r[2]!.diagnostics.map((d) => d.code),
    ['STATUS_LOG_UNREADABLE'],
  );
  assert.is(c.ok, false);
  assert.ok(a.ok && b.ok);
  assert.is(r[0]!.nodes, undefined, 'no node detail unless asked');
  // --deployed-at wins over both; --never-booted 72 h: not yet.
  const late = await all({ sites: dirs.slice(0, 2), logDir, outDir, now: NOW, deployedAt: NOW - 50 * HOUR, neverBootedMs: 72 * HOUR });
  assert.equal(
    late.map((s) => [s.summary.deployed_from, s.summary.never_booted]),
    [
      ['deployed-at', []],
      ['deployed-at', []],
    ],
  );
  const early = await all({ sites: dirs.slice(0, 2), logDir, outDir, now: NOW, deployedAt: NOW - 50 * HOUR });
  assert.equal(
    early.map((s) => s.summary.never_booted),
    [['never'], ['never']],
  );
  // A state.json of another site is not this site's deploy.
  writeFileSync(join(logDir, 'b', 'state.json'), JSON.stringify({ format: 1, site: 'a', switched_at: new Date(NOW).toISOString() }));
  const other = await all({ sites: [dirs[1]!], logDir, outDir, now: NOW });
  assert.is(other[0]!.summary.deployed_at, undefined);
});

test('--state over a fleet: each site has its own state file; appended lines give the summaries of a full run', async () => {
  const { dirs, logDir, outDir, root } = fleet();
  const state = join(root, 'state');
  const text = sortedLog();
  const half = text.indexOf('\n', text.length >> 1) + 1;
  for (const n of ['a', 'b']) writeFileSync(join(logDir, n, 'access.log'), text.slice(0, half));
  const o = { sites: dirs.slice(0, 2), logDir, outDir, now: NOW, detail: true };
  // Inputs changed less than 100 ms ago are never trusted from a stamp (src/load/stamps.ts).
  await new Promise((r) => setTimeout(r, 150));
  const first = await all({ ...o, state });
  assert.equal(
    first.map((s) => s.cached),
    [undefined, undefined],
  );
  for (const n of ['a', 'b']) appendFileSync(join(logDir, n, 'access.log'), text.slice(half));
  const inc = await all({ ...o, state });
  const full = await all(o);
  assert.equal(
    inc.map((s) => [s.summary, s.nodes, s.unknown]),
    full.map((s) => [s.summary, s.nodes, s.unknown]),
  );
  // The second run took each model from the state: the inventories had not changed.
  assert.equal(
    inc.map((s) => s.cached),
    [true, true],
  );
  // An edit of the inventory is seen: node boot of site a gets another MAC, so its boots are no longer its own.
  const yaml = join(dirs[0]!, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('mac: 52:54:00:00:00:02', 'mac: 52:54:00:00:00:22'));
  const edited = await all({ ...o, state });
  assert.equal(
    edited.map((s) => s.cached),
    [undefined, true],
  );
  assert.is(edited[0]!.nodes!.find((n) => n.hostname === 'boot')!.verdict, 'never-booted');
  assert.equal(edited[0]!.summary, (await all(o))[0]!.summary);
  const { readdirSync } = await import('node:fs');
  assert.equal(readdirSync(state).sort(), ['site-a.json', 'site-b.json']);
  // A run stopped half-way (the caller took one site and left) saves nothing.
  appendFileSync(join(logDir, 'a', 'access.log'), text.slice(0, half));
  const before = readFileSync(join(state, 'site-a.json'), 'utf8');
  for await (const _ of statusFleet({ ...o, state })) break;
  assert.is(readFileSync(join(state, 'site-a.json'), 'utf8'), before);
});

test('one run at a time on a state directory: a second one fails with STATUS_LOCKED and reads nothing', async () => {
  const { dirs, logDir, outDir, root } = fleet();
  const state = join(root, 'state');
  const held = await lockState(state);
  assert.ok('release' in held);
  try {
    const r = await all({ sites: dirs, logDir, outDir, state, now: NOW });
    assert.is(r.length, 1);
    assert.ok(r[0]!.fatal);
    assert.equal(
      r[0]!.diagnostics.map((d) => d.code),
      ['STATUS_LOCKED'],
    );
  } finally {
    if ('release' in held) await held.release();
  }
  const after = await all({ sites: dirs.slice(0, 1), logDir, outDir, state, now: NOW });
  assert.ok(after[0]!.summary.ok && !after[0]!.fatal);
});

/** One sample of the text format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A parser of Prometheus's text exposition format (0.0.4), as strict as the scrape: `# HELP` and
 * `# TYPE` before a family's samples, a family's lines together, label values in quotes with
 * `\\`, `\"` and `\n` the only escapes, a float value.
 */
function parseMetrics(text: string): { samples: Sample[]; types: Record<string, string>; order: string[] } {
  assert.ok(text.endsWith('\n'), 'ends with a line feed');
  const types: Record<string, string> = {};
  const helps = new Set<string>();
  const order: string[] = [];
  const samples: Sample[] = [];
  for (const l of text.slice(0, -1).split('\n')) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(l);
    if (m) {
      assert.not.ok(helps.has(m[1]!), `one HELP for ${m[1]}`);
      helps.add(m[1]!);
      order.push(m[1]!);
      continue;
    }
    if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(l))) {
      assert.is(order[order.length - 1], m[1], 'TYPE after its HELP');
      types[m[1]!] = m[2]!;
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
    assert.ok(m, `a sample line: ${JSON.stringify(l)}`);
    const name = m![1]!;
    assert.is(order[order.length - 1], name, `${name}: its samples right after its HELP and TYPE`);
    const labels: Record<string, string> = {};
    let rest = m![2] ?? '';
    while (rest.length > 0) {
      const k = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(rest);
      assert.ok(k, `a label in ${l}`);
      let i = k![0].length;
      let v = '';
      for (; rest[i] !== '"'; i++) {
        assert.ok(i < rest.length, `an unterminated label value in ${l}`);
        if (rest[i] === '\\') {
          const e = rest[++i];
          assert.ok(e === '\\' || e === '"' || e === 'n', `escape \\${e} in ${l}`);
          v += e === 'n' ? '\n' : e;
        } else {
          assert.ok(rest[i] !== '\n', 'no raw line feed');
          v += rest[i];
        }
      }
      labels[k![1]!] = v;
      rest = rest.slice(i + 1);
      if (rest.startsWith(',')) rest = rest.slice(1);
    }
    const value = Number(m![3]);
    assert.ok(!Number.isNaN(value), `a number: ${m![3]}`);
    samples.push({ name, labels, value });
  }
  for (const n of order) assert.ok(types[n], `${n} has a TYPE`);
  return { samples, types, order };
}

test('metrics: HELP and TYPE, families sorted, label values escaped, the same summaries give the same bytes', async () => {
  const { dirs, logDir, outDir } = fleet();
  const r = await all({ sites: dirs, logDir, outDir, now: NOW, deployedAt: NOW - 30 * HOUR });
  const hostile = { ...r[0]!.summary, site: 'we"ird\\site\nx' };
  const summaries = [r[1]!.summary, hostile, ...r.map((s) => s.summary)];
  const text = metricsText(summaries);
  assert.is(metricsText(summaries), text);
  const { samples, types, order } = parseMetrics(text);
  assert.equal(order, [...order].sort());
  assert.is(types.harvgen_status_requests_total, 'counter');
  assert.is(types.harvgen_nodes, 'gauge');
  const get = (name: string, site: string, verdict?: string) =>
    samples.find((s) => s.name === name && s.labels.site === site && (verdict === undefined || s.labels.verdict === verdict))?.value;
  assert.is(get('harvgen_nodes', 'a', 'installed'), 2);
  assert.is(get('harvgen_nodes', 'a', 'booted'), 0);
  assert.is(get('harvgen_nodes_never_booted', 'a'), 1);
  assert.is(get('harvgen_nodes_never_booted', 'we"ird\\site\nx'), 1, 'the hostile site name read back whole');
  assert.is(get('harvgen_status_requests_total', 'a'), r[0]!.summary.requests);
  assert.is(get('harvgen_status_last_request_timestamp_seconds', 'a'), Date.parse(r[0]!.summary.last_request!) / 1000);
  assert.is(get('harvgen_status_site_ok', 'c'), 0);
  assert.is(get('harvgen_nodes', 'c', 'installed'), undefined, 'a site not read has no counts');
  // Series sorted by their labels within a family.
  const sites = samples.filter((s) => s.name === 'harvgen_nodes_never_booted').map((s) => s.labels.site!);
  assert.equal(sites, [...sites].sort());
  assert.is(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
});

test.run();
