// `harvgen report`'s pages in a real browser: Debian's chromium, headless, through puppeteer-core.
// The index and a site page are loaded from file://, every request watched: each node is in the
// DOM with the state status computes from a fixture log, links resolve, the screenshot is not
// blank, axe-core finds no WCAG 2.1 A/AA violation (the fleet page's too), no request leaves the report's directory, a
// phone's width needs no sideways scroll, and the pages read the same with JavaScript off. Each
// judge is shown to catch its fault (a page with one). HARVGEN_REPORT_SCREENSHOT=1 saves the site
// page's screenshot as docs/img/report-site.png (the one in the README).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser } from 'puppeteer-core';
import { report, writeReport } from '../../src/page/index.ts';
import { status } from '../../src/status/index.ts';
import { logs, site } from '../helpers/status.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram } from './helpers/programs.ts';
import { axeViolations, colourCount, startBrowser, watchedPage } from './helpers/browser.ts';

const repo = resolve(import.meta.dirname, '../..');
const D1 = `sha256:${'ab'.repeat(32)}`;
const D2 = `sha256:${'cd'.repeat(32)}`;
const haveChromium = requireProgram('chromium');

/** The report of the status site (one node per verdict) and its log, written to a temporary directory. */
async function written(): Promise<{ out: string; verdicts: Map<string, string> }> {
  const dir = site('browser');
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${logs().join('\n')}\n`);
  // The fleet: this site published and served, a second one drifted; the verify results saved.
  const fleet = join(dir, '..', 'published');
  mkdirSync(fleet);
  for (const site of ['browser', 'far'])
    writeFileSync(
      join(fleet, `${site}.json`),
      JSON.stringify({
        site,
        boot_server: `http://10.0.${site.length}.1`,
        digest: D1,
        repository: 'registry.example/harvgen',
        tag: site,
        sample: [],
      }),
    );
  const served = (site: string, digest: string, state: string) => ({
    site,
    record: `${fleet}/${site}.json`,
    url: `http://10.0.${site.length}.1`,
    state,
    expected: D1,
    served: digest,
    source: 'registry.example/harvgen',
    verdict: { ok: true, checks: 9, failed: 0, at: '2026-11-23T11:00:00Z' },
    checks: 12,
    failed: state === 'ok' ? 0 : 1,
    reachable: true,
    duration_ms: 20,
    problem: state === 'ok' ? null : `serves ${digest}, git says ${D1}`,
  });
  const verified = join(dir, '..', 'verified.json');
  writeFileSync(
    verified,
    JSON.stringify({ command: 'verify', ok: false, fleet: [served('browser', D1, 'ok'), served('far', D2, 'drift')] }),
  );
  const r = await report({ sites: [dir], logs: [log], fleet, verified, generatedAt: '2026-11-23T12:00:00Z' });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const out = join(tempDir('report-browser'), 'report');
  const w = await writeReport(out, r.files);
  assert.not.ok('diagnostic' in w);
  const st = await status({ sites: [dir], logs: [log] });
  return { out, verdicts: new Map(st.nodes.map((n) => [n.hostname, n.verdict])) };
}

let browser: Browser | undefined;
let fixture: { out: string; verdicts: Map<string, string> };

test.before(async () => {
  if (!haveChromium) return;
  fixture = await written();
  browser = await startBrowser();
});
test.after(async () => {
  await browser?.close();
});

/** Load a page of the report with its requests watched; what the page says of itself. */
async function load(rel: string, width = 1200) {
  const base = pathToFileURL(fixture.out).href + '/';
  const w = await watchedPage(browser!, base);
  await w.page.setViewport({ width, height: 900 });
  await w.page.goto(base + rel, { waitUntil: 'load' });
  return { ...w, base };
}

/** Every link of the page resolves to a file of the report, and each fragment to an element there. */
async function assertLinks(page: import('puppeteer-core').Page): Promise<number> {
  const links = (await page.evaluate(`[...document.querySelectorAll('a[href]')].map((a) => a.href)`)) as string[];
  for (const href of links) {
    const [file, frag] = href.split('#');
    assert.ok(file!.startsWith('file://'), `${href} is a file of the report`);
    assert.ok(existsSync(fileURLToPath(file!)), `${href} resolves to a file`);
    if (frag) {
      const p = await browser!.newPage();
      await p.setJavaScriptEnabled(false);
      await p.goto(file!);
      assert.ok(await p.$(`#${frag.replace(/\./g, '\\.')}`), `${href}: #${frag} is in the page`);
      await p.close();
    }
  }
  return links.length;
}

test('the index: every site with its counts, links that resolve, no blank screen, no axe violation, no request outside', async () => {
  if (!haveChromium) return;
  const { page, requests, outside, base } = await load('index.html');
  assert.is(await page.title(), 'harvgen report');
  const text = String(await page.evaluate(`document.body.innerText`));
  for (const v of ['installed', 'installing', 'booting', 'never-booted', 'failed', 'loop']) assert.match(text, new RegExp(`${v}\\s+1`));
  assert.ok((await assertLinks(page)) >= 3);
  assert.ok((await colourCount(browser!, await page.screenshot({ type: 'png' }))) > 2, 'the screenshot is not one colour');
  assert.equal(await axeViolations(page), []);
  assert.equal(outside, []);
  assert.ok(requests.length >= 1 && requests.every((u) => u.startsWith(base)));
  await page.close();
});

test('a site page: every node with the state status computes, explain settings, a picture, readable on a phone', async () => {
  if (!haveChromium) return;
  const { page, outside } = await load('sites/browser/index.html');
  const states = (await page.evaluate(
    `[...document.querySelectorAll('tr[id^="node-"]')].map((r) => [r.id.slice(5), r.dataset.state, r.querySelector('.state').textContent])`,
  )) as [string, string, string][];
  assert.equal(
    states.map(([h, s]) => [h, s]),
    [...fixture.verdicts.entries()],
  );
  for (const [, s, shown] of states) assert.is(shown, s, 'the state is shown as text');
  assert.is(await page.evaluate(`document.querySelectorAll('details[id^="settings-"]').length`), fixture.verdicts.size);
  assert.ok(await page.$('svg[role="img"] title'), 'the picture has a title');
  // The optional script filters the rows.
  await page.type('#nodes-filter', 'loop');
  assert.is(await page.evaluate(`[...document.querySelectorAll('#nodes tbody tr')].filter((r) => !r.hidden).length`), 1);
  await page.evaluate(
    `document.getElementById('nodes-filter').value = ''; document.getElementById('nodes-filter').dispatchEvent(new Event('input', { bubbles: true }))`,
  );
  await assertLinks(page);
  const png = await page.screenshot({ type: 'png', fullPage: true });
  assert.ok((await colourCount(browser!, png)) > 8, 'the screenshot is not blank');
  if (process.env.HARVGEN_REPORT_SCREENSHOT === '1') {
    mkdirSync(join(repo, 'docs/img'), { recursive: true });
    writeFileSync(join(repo, 'docs/img/report-site.png'), png);
  }
  assert.equal(await axeViolations(page), []);
  // A phone: the page is as wide as the screen (the tables scroll in their own box).
  await page.setViewport({ width: 375, height: 812, isMobile: true });
  assert.ok(Number(await page.evaluate(`document.documentElement.scrollWidth`)) <= 375, 'no sideways scroll on a phone');
  assert.equal(await axeViolations(page), []);
  assert.equal(outside, []);
  await page.close();
});

test('the fleet page: each boot server with its state and drift, the site linked, no axe violation, no request outside', async () => {
  if (!haveChromium) return;
  const { page, outside } = await load('fleet.html');
  const states = (await page.evaluate(
    `[...document.querySelectorAll('#fleet tbody tr')].map((r) => [r.dataset.state, r.querySelector('.state').textContent])`,
  )) as [string, string][];
  assert.equal(states, [
    ['ok', 'ok'],
    ['drift', 'drift'],
  ]);
  assert.match(String(await page.evaluate(`document.body.innerText`)), `serves ${D2}, git says ${D1}`);
  assert.ok((await assertLinks(page)) >= 2);
  // The optional filter hides a whole site (its servers' rows together).
  await page.type('#fleet-filter', 'far');
  assert.equal(await page.evaluate(`[...document.querySelectorAll('#fleet tbody')].map((b) => b.hidden)`), [true, false]);
  assert.equal(await axeViolations(page), []);
  assert.equal(outside, []);
  await page.close();
});

test('with JavaScript off the site page and the print view show every node', async () => {
  if (!haveChromium) return;
  for (const rel of ['sites/browser/index.html', 'sites/browser/print.html']) {
    const base = pathToFileURL(fixture.out).href + '/';
    const { page, outside } = await watchedPage(browser!, base);
    await page.setJavaScriptEnabled(false);
    await page.goto(base + rel);
    const text = String(await page.evaluate(`document.body.innerText`).catch(() => ''));
    // evaluate runs even with the page's scripts off (it is the driver's, not the page's).
    for (const h of fixture.verdicts.keys()) assert.match(text, h);
    assert.equal(outside, []);
    await page.close();
  }
});

test('the judges catch their faults: a request outside, an axe violation, a blank screenshot', async () => {
  if (!haveChromium) return;
  const { page, outside } = await load('index.html');
  await page.evaluate(
    `(() => { const i = document.createElement('img'); i.src = 'https://cdn.example.invalid/x.png'; document.body.append(i); })()`,
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(outside, ['https://cdn.example.invalid/x.png']);
  await page.evaluate(
    `document.body.insertAdjacentHTML('beforeend', '<input type="text"><p style="color:#ddd;background:#fff">faint</p>')`,
  );
  const ids = (await axeViolations(page)).map((v) => v.id).sort();
  assert.ok(ids.includes('label') && ids.includes('color-contrast'), ids.join(' '));
  const blank = await browser!.newPage();
  await blank.setContent('<html><body style="background:#fff"></body></html>');
  assert.is(await colourCount(browser!, await blank.screenshot({ type: 'png' })), 1);
  await blank.close();
  await page.close();
});

test.run();
