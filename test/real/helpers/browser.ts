// Debian's chromium, headless, through puppeteer-core (which downloads no browser): one browser
// per test file, a page that records every request it makes, axe-core run in the page, and a
// blank check of a screenshot done by the browser itself (its canvas reads the PNG's pixels).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { findProgram } from './programs.ts';

/** Start chromium headless (sandboxed unless running as root, where it cannot be). */
export async function startBrowser(): Promise<Browser> {
  const executablePath = findProgram('chromium')!;
  const args = ['--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', '--font-render-hinting=none'];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return puppeteer.launch({ executablePath, headless: true, args });
}

/** A page whose every request is recorded; any not under `allowed` (a URL prefix) is aborted. */
export async function watchedPage(browser: Browser, allowed: string): Promise<{ page: Page; requests: string[]; outside: string[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  const outside: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    const url = r.url();
    requests.push(url);
    if (url.startsWith(allowed)) void r.continue();
    else {
      outside.push(url);
      void r.abort();
    }
  });
  return { page, requests, outside };
}

/** axe-core's violations of the WCAG 2.1 A and AA rules on the page as it is. */
export async function axeViolations(page: Page): Promise<{ id: string; help: string; nodes: string[] }[]> {
  const require = createRequire(import.meta.url);
  // Injected as the script's text: no request is made for it.
  await page.addScriptTag({ content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
  // In the page (the test's TypeScript has no DOM types): a string the browser evaluates.
  return (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    .then((r) => r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))`)) as {
    id: string;
    help: string;
    nodes: string[];
  }[];
}

/** How many distinct colours a PNG has (read back by the browser's canvas, in a page of its own). */
export async function colourCount(browser: Browser, png: Uint8Array): Promise<number> {
  const page = await browser.newPage();
  try {
    const data = `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
    return Number(
      await page.evaluate(`(async () => {
        const img = new Image();
        img.src = ${JSON.stringify(data)};
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < px.length && seen.size < 1000; i += 4) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
        return seen.size;
      })()`),
    );
  } finally {
    await page.close();
  }
}
