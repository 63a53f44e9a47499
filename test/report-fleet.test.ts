// The fleet part of `harvgen report` (src/page/fleet.ts, src/page/verified.ts): the fleet record
// on its own pages, each site with its boot servers; with `--verified`, what `verify --fleet`
// found each server serving (its state, the digest it serves, the drift); the verify document
// read as untrusted data (its shape, its size, a FIFO in its place, a value that would be markup);
// paged like the index. The CLI chain (verify --fleet --json, then report): test/cli-report.test.ts.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { report, type PageFile } from '../src/page/index.ts';
import { pagerPages } from '../src/page/pager.ts';
import { findAll, parseHtml, textOf, type El } from './helpers/html-scan.ts';
import { site } from './helpers/status.ts';
import { tempDir } from './helpers/tmp.ts';

const AT = '2026-11-23T12:00:00Z';
const D1 = `sha256:${'ab'.repeat(32)}`;
const D2 = `sha256:${'cd'.repeat(32)}`;

const flat = (el: El) => textOf(el).replace(/\s+/g, ' ').trim();

function page(files: readonly PageFile[], path: string): string {
  const f = files.find((x) => x.path === path);
  assert.ok(f, `${path} is written`);
  return f!.contents;
}

/** A fleet record directory with a record per site (`servers`: a failover pair's own addresses). */
function fleetDir(sites: Record<string, { servers?: string[] }>): string {
  const dir = join(tempDir('report-fleet'), 'published');
  mkdirSync(dir);
  for (const [name, o] of Object.entries(sites))
    writeFileSync(
      join(dir, `${name}.json`),
      JSON.stringify({
        site: name,
        boot_server: `http://10.0.${name.length}.1`,
        ...(o.servers ? { servers: o.servers } : {}),
        digest: D1,
        repository: 'registry.example:5000/harvgen',
        tag: name,
        sample: [{ path: 'boot.ipxe', sha256: 'cd'.repeat(32), size: 100 }],
      }),
    );
  return dir;
}

/** One entry of verify --fleet --json's `fleet`. */
function entry(site: string, url: string, o: Partial<Record<string, unknown>> = {}) {
  return {
    site,
    record: `published/${site}.json`,
    url,
    state: 'ok',
    expected: D1,
    served: D1,
    source: 'registry.example:5000/harvgen',
    verdict: { ok: true, checks: 9, failed: 0, at: '2026-11-23T11:00:00Z' },
    checks: 20,
    failed: 0,
    reachable: true,
    duration_ms: 12,
    problem: null,
    ...o,
  };
}

function verifiedFile(fleet: unknown[], extra: Record<string, unknown> = {}): string {
  const file = join(tempDir('report-verified'), 'verified.json');
  writeFileSync(file, JSON.stringify({ command: 'verify', ok: true, sites: [], diagnostics: [], fleet, ...extra }));
  return file;
}

/** Each fleet table row: [site or '', server, state, served, problem]. */
function fleetLines(html: string, id = 'fleet'): string[][] {
  const table = findAll(parseHtml(html), (e) => e.tag === 'table' && e.attrs.id === id)[0]!;
  return findAll(table, (e) => e.tag === 'tr')
    .slice(1)
    .map((tr) => {
      const th = findAll(tr, (e) => e.tag === 'th');
      const td = findAll(tr, (e) => e.tag === 'td').map(flat);
      const own = th.length > 0 ? td.slice(2) : td;
      return [th.length > 0 ? flat(th[0]!) : '', own[0]!, own[1]!, own[2]!, own[5]!];
    });
}

test('--fleet: every record on the fleet page with its digest and servers, linked to its site page; a bad record stops the report', async () => {
  const dir = site('rep');
  const fleet = fleetDir({ rep: { servers: ['http://10.0.0.2', 'http://10.0.0.3'] }, other: {} });
  const r = await report({ sites: [dir], fleet, generatedAt: AT });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const html = page(r.files, 'fleet.html');
  // A failover site: its shared address first, then each server's own (as verify --fleet checks them).
  assert.equal(fleetLines(html), [
    ['other', 'http://10.0.5.1', 'not verified', '', 'no verify results given'],
    ['rep', 'http://10.0.3.1', 'not verified', '', 'no verify results given'],
    ['', 'http://10.0.0.2', 'not verified', '', 'no verify results given'],
    ['', 'http://10.0.0.3', 'not verified', '', 'no verify results given'],
  ]);
  assert.match(html, D1);
  // The site in the report is linked, the other is not; a server's URL is text, never a link.
  const links = findAll(parseHtml(html), (e) => e.tag === 'table' && e.attrs.id === 'fleet').flatMap((t) =>
    findAll(t, (e) => e.tag === 'a').map((a) => a.attrs.href),
  );
  assert.equal(links, ['sites/rep/index.html']);
  // The index says how many and links to the fleet page; the site's page has its own row.
  const index = page(r.files, 'index.html');
  assert.match(index.replace(/\s+/g, ' '), '2 published site(s); no verify results given');
  assert.match(index, 'href="fleet.html"');
  assert.equal(fleetLines(page(r.files, 'sites/rep/index.html'), 'published').length, 3);
  writeFileSync(join(fleet, 'broken.json'), '{"site": "broken"');
  const bad = await report({ sites: [dir], fleet, generatedAt: AT });
  assert.not.ok(bad.ok);
  assert.equal(bad.files, []);
  assert.ok(bad.diagnostics.some((d) => d.code === 'VERIFY_FLEET_RECORD' && d.file === join(fleet, 'broken.json')));
});

test('--verified: each server with the state verify found, what it serves and the drift; stale results and unnamed servers said', async () => {
  const dir = site('rep');
  const fleet = fleetDir({ rep: { servers: ['http://10.0.0.2', 'http://10.0.0.3'] }, other: {}, third: {}, fourth: {} });
  const verified = verifiedFile([
    // The shared address the nodes boot from drifted: it is on the page, not left out.
    entry('rep', 'http://10.0.3.1', { state: 'drift', served: D2, problem: `serves ${D2}, git says ${D1}` }),
    entry('rep', 'http://10.0.0.2'),
    entry('rep', 'http://10.0.0.3', { state: 'drift', served: D2, verdict: null, problem: `serves ${D2}, git says ${D1}` }),
    entry('other', 'http://10.0.5.1', { state: 'unreachable', served: null, source: null, verdict: null, problem: 'did not answer' }),
    // Results of an older record: they say nothing of what the record says now.
    entry('third', 'http://10.0.5.1', { expected: D2, served: D2 }),
    entry('gone', 'http://10.0.4.1'),
  ]);
  const r = await report({ sites: [dir], fleet, verified, generatedAt: AT });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.equal(fleetLines(page(r.files, 'fleet.html')), [
    ['fourth', 'http://10.0.6.1', 'not verified', '', 'the verify results do not name this server'],
    ['other', 'http://10.0.5.1', 'unreachable', '', 'did not answer'],
    ['rep', 'http://10.0.3.1', 'drift', D2, `serves ${D2}, git says ${D1}`],
    ['', 'http://10.0.0.2', 'ok', D1, ''],
    ['', 'http://10.0.0.3', 'drift', D2, `serves ${D2}, git says ${D1}`],
    ['third', 'http://10.0.5.1', 'stale', D2, `verified against ${D2}; the record now says ${D1}: verify again`],
  ]);
  assert.match(page(r.files, 'fleet.html'), /data-state="drift"[\s\S]*class="state s-drift"/);
  assert.match(
    page(r.files, 'index.html').replace(/\s+/g, ' '),
    '4 published site(s); boot servers: 2 drift, 1 not verified, 1 ok, 1 stale, 1 unreachable.',
  );
  assert.equal(
    fleetLines(page(r.files, 'sites/rep/index.html'), 'published').map((l) => l[2]),
    ['drift', 'ok', 'drift'],
  );
  const extra = r.diagnostics.filter((d) => d.code === 'REPORT_VERIFIED');
  assert.equal(
    extra.map((d) => [d.severity, d.message]),
    [['warning', '--verified names 1 site(s) or server(s) the fleet record does not (gone at http://10.0.4.1): left out of the report']],
  );
});

test('--verified is untrusted: markup in its texts stays text, and a document that is not verify --fleet stops the report', async () => {
  const dir = site('rep');
  const fleet = fleetDir({ rep: {} });
  const hostile = '<img src=x onerror=alert(1)>"&';
  const r = await report({
    sites: [dir],
    fleet,
    verified: verifiedFile([entry('rep', 'http://10.0.3.1', { state: 'differs', source: hostile, problem: hostile })]),
    generatedAt: AT,
  });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const html = page(r.files, 'fleet.html');
  assert.not.match(html, '<img');
  assert.match(html, '&lt;img src=x onerror=alert(1)&gt;&quot;&amp;');
  const root = tempDir('report-verified-bad');
  const fifo = join(root, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const big = join(root, 'big.json');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, 65 * 1024 * 1024);
  closeSync(fd);
  const notJson = join(root, 'x.json');
  writeFileSync(notJson, '{"command": "verify", "fleet": [');
  const cases: [string, RegExp][] = [
    [join(root, 'none.json'), /cannot be read/],
    [fifo, /is not a regular file/],
    [big, /is larger than 67108864 bytes/],
    [notJson, /is not JSON/],
    [verifiedFile([], { command: 'status' }), /is not the JSON of `harvgen verify --fleet`/],
    [verifiedFile([entry('Rep!', 'http://10.0.3.1')]), /fleet\[0\]\.site is not a site name/],
    [verifiedFile([entry('rep', 'javascript:alert(1)')]), /fleet\[0\]\.url is not a boot server URL/],
    [verifiedFile([entry('rep', 'http://10.0.3.1', { state: 'fine' })]), /fleet\[0\]\.state is not one of/],
    [verifiedFile([entry('rep', 'http://10.0.3.1', { served: 'sha256:abc' })]), /expected and served are sha256/],
    [verifiedFile([entry('rep', 'http://10.0.3.1', { checks: -1 })]), /checks and failed are counts/],
    [verifiedFile([entry('rep', 'http://10.0.3.1', { verdict: 'yes' })]), /verdict is not the materializer's verdict/],
    [
      verifiedFile([entry('rep', 'http://10.0.3.1'), entry('rep', 'http://10.0.3.1', { state: 'drift' })]),
      /fleet\[1\] names rep at http:\/\/10\.0\.3\.1 again/,
    ],
  ];
  for (const [file, message] of cases) {
    const bad = await report({ sites: [dir], fleet, verified: file, generatedAt: AT });
    assert.not.ok(bad.ok, file);
    assert.equal(bad.files, []);
    const d = bad.diagnostics.find((x) => x.code === 'REPORT_VERIFIED');
    assert.ok(d && d.severity === 'error', JSON.stringify(bad.diagnostics));
    assert.match(d!.message, message);
  }
  const alone = await report({ sites: [dir], verified: verifiedFile([]), generatedAt: AT });
  assert.not.ok(alone.ok);
  assert.match(alone.diagnostics.find((d) => d.code === 'REPORT_VERIFIED')!.message, '--verified needs --fleet');
});

test('a fleet of many sites is paged: each record on exactly one page, the pages linked', async () => {
  const dir = site('rep');
  const names: Record<string, object> = {};
  for (let i = 0; i < 450; i++) names[`s${String(i).padStart(3, '0')}`] = {};
  const r = await report({ sites: [dir], fleet: fleetDir(names), generatedAt: AT });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const pages = r.files.filter((f) => /^fleet(-\d+)?\.html$/.test(f.path)).map((f) => f.path);
  assert.equal(pages, ['fleet-2.html', 'fleet-3.html', 'fleet.html']);
  const seen = pages.flatMap((p) => fleetLines(page(r.files, p)).map((l) => l[0]));
  assert.equal(seen.sort(), Object.keys(names).sort());
  assert.match(page(r.files, 'fleet.html'), 'href="fleet-2.html" rel="next"');
});

test('the pager names the first, the last and the pages near the current one: bounded however many pages', () => {
  assert.equal(pagerPages(1, 3), [1, 2, 3]);
  assert.equal(pagerPages(1, 10), [1, 2, 3, 4, undefined, 10]);
  assert.equal(pagerPages(50, 10_000), [1, undefined, 47, 48, 49, 50, 51, 52, 53, undefined, 10_000]);
  assert.equal(pagerPages(10_000, 10_000), [1, undefined, 9997, 9998, 9999, 10_000]);
});

test.run();
