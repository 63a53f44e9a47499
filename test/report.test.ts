// `harvgen report`'s library (src/page/): the HTML of a site of one node per status verdict and
// its synthetic log, read back through a strict HTML reader (test/helpers/html-scan.ts): every
// node on its page with the state status computes, links that resolve, no external URL, no
// secret, the same bytes twice, bounded pages. The real browser: test/real/report-browser.test.ts.
import { cpSync, readFileSync, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { report, writeReport, type PageFile } from '../src/page/index.ts';
import { status } from '../src/status/index.ts';
import { compileSite } from '../src/pipeline.ts';
import { findAll, parseHtml, textOf } from './helpers/html-scan.ts';
import { holderMarks, logs, site } from './helpers/status.ts';
import { PASSWORD, TOKEN } from './helpers/secrets.ts';
import { tempDir } from './helpers/tmp.ts';
import { minimalSiteHead } from './helpers/example.ts';

const AT = '2026-11-23T12:00:00Z';
const FAILOVER_SITE = join(import.meta.dirname, 'fixtures/build/failover-dnsmasq/site');
const FILE_KEY = 'f1le-key-from-the-vault-0123456789abcdef';

/** The status site with a hostile description (and `keyed`: an nginx.file_key), and its log. */
function fixture(keyed = false): { dir: string; log: string } {
  const dir = site('rep');
  const file = join(dir, 'site.yaml');
  const text = readFileSync(file, 'utf8')
    .replace('site: rep\n', 'site: rep\ndescription: "<script>alert(1)</script> & \\"rack 4\\""\n')
    .replace('cluster:\n', keyed ? 'nginx:\n  file_key: { env: HARVGEN_FILE_KEY }\ncluster:\n' : 'cluster:\n');
  writeFileSync(file, text);
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${logs().join('\n')}\n`);
  return { dir, log };
}

/** An element's text, white space collapsed. */
function flat(el: Parameters<typeof textOf>[0]): string {
  return textOf(el).replace(/\s+/g, ' ');
}

function page(files: readonly PageFile[], path: string): string {
  const f = files.find((x) => x.path === path);
  assert.ok(f, `${path} is written`);
  return f!.contents;
}

test('every node is on its site page with the state status computes from the log', async () => {
  const { dir, log } = fixture();
  const r = await report({ sites: [dir], logs: [log], generatedAt: AT });
  assert.equal(r.diagnostics, []);
  assert.ok(r.ok);
  const st = await status({ sites: [dir], logs: [log] });
  const doc = parseHtml(page(r.files, 'sites/rep/index.html'));
  const rows = findAll(doc, (e) => e.tag === 'tr' && (e.attrs.id ?? '').startsWith('node-'));
  assert.equal(
    rows.map((e) => [e.attrs.id, e.attrs['data-state']]),
    st.nodes.map((n) => [`node-${n.hostname}`, n.verdict]),
  );
  assert.equal([...new Set(st.nodes.map((n) => n.verdict))].length, 7, 'the fixture has one node per verdict');
  // The index counts them by state.
  const index = flat(parseHtml(page(r.files, 'index.html')));
  for (const v of ['installed', 'installing', 'booting', 'never-booted', 'failed', 'loop']) assert.match(index, `${v} 1`);
  assert.match(index, 'with problems');
  // explain's main settings, with where each came from.
  const settings = findAll(doc, (e) => e.tag === 'details' && e.attrs.id === 'settings-done');
  assert.is(settings.length, 1);
  assert.match(
    flat(settings[0]!),
    /install\.device \/dev\/disk\/by-path\/pci-0000:00:04\.0.*site\.yaml:\d+:\d+ \(defaults\.install\.device\)/,
  );
  // The hostile description is text, not markup.
  assert.match(textOf(parseHtml(page(r.files, 'index.html'))), '<script>alert(1)</script> & "rack 4"');
  assert.not.match(page(r.files, 'index.html'), '<script>alert');
});

test('without logs the states are unknown and the counts are by role and kind', async () => {
  const { dir } = fixture();
  const r = await report({ sites: [dir], generatedAt: AT });
  assert.ok(r.ok);
  const doc = parseHtml(page(r.files, 'sites/rep/index.html'));
  const states = findAll(doc, (e) => e.tag === 'tr' && e.attrs['data-state'] !== undefined).map((e) => e.attrs['data-state']);
  assert.equal(states, Array(7).fill('unknown'));
  assert.match(flat(parseHtml(page(r.files, 'index.html'))), /role join 6 .*kind harvester 7/);
});

test('every link resolves to a written page and fragment; nothing points outside the report', async () => {
  const { dir, log } = fixture();
  const r = await report({ sites: [dir], logs: [log], generatedAt: AT });
  const byPath = new Map(r.files.map((f) => [f.path, parseHtml(f.contents)] as const));
  let links = 0;
  for (const [path, doc] of byPath) {
    const text = r.files.find((f) => f.path === path)!.contents;
    assert.not.match(text, /[a-z]+:\/\/|url\(|@import|src=/i, `${path} names no URL, no CSS url(), no src`);
    for (const a of findAll(doc, (e) => e.attrs.href !== undefined)) {
      links++;
      const [file, frag] = a.attrs.href!.split('#');
      const target = file === '' ? path : posix.normalize(posix.join(posix.dirname(path), file!));
      assert.ok(byPath.has(target), `${path} links ${a.attrs.href}, which is not written`);
      if (frag) assert.ok(findAll(byPath.get(target)!, (e) => e.attrs.id === frag).length === 1, `${path}: #${frag} is in ${target}`);
    }
  }
  assert.ok(links > 10, `${links} links checked`);
});

test('no secret and no keyed name is on any page, even with the secrets in the environment', async () => {
  const { dir, log } = fixture(true);
  const saved = { ...process.env };
  Object.assign(process.env, { HARVGEN_TOKEN: TOKEN, HARVGEN_PASSWORD: PASSWORD, HARVGEN_FILE_KEY: FILE_KEY });
  try {
    const r = await report({ sites: [dir], logs: [log], generatedAt: AT });
    assert.ok(r.ok);
    // The keyed names the deploy tree serves (made with the key): each file name that the
    // committed tree, without the key, does not have.
    const deploy = await compileSite(dir, { secrets: 'filled' });
    const committed = new Set((await compileSite(dir, { secrets: 'markers' })).artifacts!.map((a) => basename(a.path)));
    const keyed = deploy.artifacts!.map((a) => basename(a.path)).filter((n) => !committed.has(n));
    assert.ok(keyed.length >= 7, `keyed names: ${keyed.join(' ')}`);
    for (const f of r.files)
      for (const secret of [TOKEN, PASSWORD, FILE_KEY, FILE_KEY.slice(0, 12), ...keyed])
        assert.not.ok(f.contents.includes(secret), `${f.path} holds a secret (${secret})`);
  } finally {
    for (const k of ['HARVGEN_TOKEN', 'HARVGEN_PASSWORD', 'HARVGEN_FILE_KEY']) if (saved[k] === undefined) delete process.env[k];
  }
});

test('the same inputs give the same bytes; only the generation time changes the footer', async () => {
  const { dir, log } = fixture();
  const a = await report({ sites: [dir], logs: [log], generatedAt: AT });
  const b = await report({ sites: [dir], logs: [log], generatedAt: AT });
  assert.equal(b.files, a.files);
  // The same inventory in another checkout (another directory, another working directory).
  const elsewhere = join(tempDir('report-elsewhere'), 'deeper', 'rep');
  cpSync(dir, elsewhere, { recursive: true });
  const d = await report({ sites: ['deeper/rep'], logs: [log], generatedAt: AT, cwd: dirname(dirname(elsewhere)) });
  assert.ok(d.ok, JSON.stringify(d.diagnostics));
  assert.equal(d.files, a.files);
  assert.match(page(a.files, 'sites/rep/index.html'), /site\.yaml:\d+:\d+ \(/);
  const c = await report({ sites: [dir], logs: [log], generatedAt: '2027-01-01T00:00:00Z' });
  assert.equal(
    c.files.map((f) => f.contents.replace('2027-01-01T00:00:00Z', AT)),
    a.files.map((f) => f.contents),
  );
});

/** A site of `n` nodes. */
function bigSite(n: number): string {
  const dir = join(tempDir('report-big'), 'big');
  mkdirSync(dir, { recursive: true });
  const nodes = Array.from({ length: n }, (_, i) => {
    const mac = `52:54:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    return `  - hostname: n${i}\n    mac: ${mac}\n    ip: 10.0.${1 + (i >> 8)}.${i & 255}\n    role: ${i === 0 ? 'create' : 'join'}\n`;
  }).join('');
  const head = minimalSiteHead('big')
    .replace('cidr: 10.0.0.0/24', 'cidr: 10.0.0.0/16')
    .replace('dhcp_range: 10.0.0.100-10.0.0.199', 'dhcp_range: 10.0.200.1-10.0.200.99');
  writeFileSync(
    join(dir, 'site.yaml'),
    `${head}  vip: 10.0.0.5\n  token: t0ken-value\n  password: pa55-value\ndefaults:\n  install:\n    device: /dev/sda\nnodes:\n${nodes}`,
  );
  return dir;
}

test('a large site is paged: each node on exactly one page, pages linked, no page grows with the site', async () => {
  const r = await report({ sites: [bigSite(250)], generatedAt: AT, perPage: 100 });
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  const pages = r.files.filter((f) => /^sites\/big\/(index|nodes-\d+)\.html$/.test(f.path));
  assert.equal(pages.map((p) => p.path).sort(), ['sites/big/index.html', 'sites/big/nodes-2.html', 'sites/big/nodes-3.html']);
  const seen = pages.flatMap((p) =>
    findAll(parseHtml(p.contents), (e) => e.tag === 'tr' && (e.attrs.id ?? '').startsWith('node-')).map((e) => e.attrs.id),
  );
  assert.is(seen.length, 250);
  assert.is(new Set(seen).size, 250);
  assert.match(page(r.files, 'sites/big/nodes-2.html'), 'href="nodes-3.html" rel="next"');
  for (const p of pages) assert.ok(p.contents.length < 400_000, `${p.path} is ${p.contents.length} bytes`);
  // The picture draws a bounded number of boxes and counts the rest.
  assert.match(page(r.files, 'sites/big/index.html'), 'and 186 more (see the table)');
});

test('writeReport: atomic pages, unchanged ones kept, stale ones removed; a foreign directory is refused', async () => {
  const { dir } = fixture();
  const out = join(tempDir('report-out'), 'r');
  const r = await report({ sites: [dir], generatedAt: AT });
  const first = await writeReport(out, r.files);
  assert.ok(!('diagnostic' in first) && first.written === r.files.length);
  const mtime = statSync(join(out, 'index.html')).mtimeMs;
  writeFileSync(join(out, 'sites/rep/nodes-9.html'), 'old');
  writeFileSync(join(out, '.harvgen-report'), `${readFileSync(join(out, '.harvgen-report'), 'utf8')}sites/rep/nodes-9.html\n`);
  const again = await writeReport(out, r.files);
  assert.equal(again, { written: 0, unchanged: r.files.length, removed: 1 });
  assert.is(statSync(join(out, 'index.html')).mtimeMs, mtime);
  assert.not.ok(existsSync(join(out, 'sites/rep/nodes-9.html')));
  const foreign = join(tempDir('report-foreign'), 'etc');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'passwd'), 'x');
  const refused = await writeReport(foreign, r.files);
  assert.ok('diagnostic' in refused && refused.diagnostic.code === 'EMIT_WRITE_FAILED');
  assert.not.ok(existsSync(join(foreign, 'index.html')));
  assert.ok(existsSync(dirname(foreign)));
});

test('a site with errors gives no pages, only its diagnostics', async () => {
  const { dir } = fixture();
  writeFileSync(
    join(dir, 'site.yaml'),
    readFileSync(join(dir, 'site.yaml'), 'utf8').replace('gateway: 10.0.0.1', 'gateway: not-an-address'),
  );
  const r = await report({ sites: [dir], generatedAt: AT });
  assert.not.ok(r.ok);
  assert.equal(r.files, []);
  assert.ok(r.diagnostics.some((d) => d.severity === 'error' && d.file !== undefined));
});

test('what the logs show beyond each node is on the index: a failover pair that could not hear itself', async () => {
  const dir = tempDir('report-split');
  const log = join(dir, 'access.log');
  writeFileSync(log, `${[...holderMarks('pxe1', '10.32.0.5', 0, 60), ...holderMarks('pxe2', '10.32.0.5', 21, 51)].join('\n')}\n`);
  const r = await report({ sites: [FAILOVER_SITE], logs: [log], generatedAt: AT });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const split = r.diagnostics.find((d) => d.code === 'FAILOVER_SPLIT');
  assert.ok(split, JSON.stringify(r.diagnostics));
  const findings = findAll(parseHtml(page(r.files, 'index.html')), (e) => e.tag === 'ul' && e.attrs.class === 'findings');
  assert.equal(
    findings.map((f) => flat(f).trim()),
    [split!.message],
  );
  // Without a split, the index has no such list.
  const quiet = await report({ sites: [FAILOVER_SITE], generatedAt: AT });
  assert.not.match(page(quiet.files, 'index.html'), 'class="findings"');
});

test.run();
