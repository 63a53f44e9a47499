// The nginx server block docs/report.md gives for the report, run by a real nginx: `nginx -t`
// accepts it, a client outside the operators' network gets 403 for every page, a client inside
// gets the pages with the Content-Security-Policy header, and never `.harvgen-report`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { report, writeReport } from '../../src/page/index.ts';
import { site } from '../helpers/status.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram } from './helpers/programs.ts';
import { nginxFailure, nginxTest, prepareNginx, startNginx } from './helpers/nginx.ts';
import { freePort, httpGet } from './helpers/http.ts';

const repo = resolve(import.meta.dirname, '../..');
const haveNginx = requireProgram('nginx');

/** The ```nginx block of docs/report.md, its TLS lines left out (the test has no certificate). */
function docSnippet(): string {
  const doc = readFileSync(join(repo, 'docs/report.md'), 'utf8');
  const m = /```nginx\n([\s\S]*?)```/.exec(doc);
  assert.ok(m, 'docs/report.md has an nginx block');
  return m![1]!
    .split('\n')
    .filter((l) => !/^\s*ssl_certificate/.test(l))
    .join('\n');
}

/** Serve the report with the doc's block, `allow` as given (the doc's own network when undefined). */
async function serve(out: string, allow?: string) {
  const port = await freePort();
  const snippet = allow === undefined ? docSnippet() : docSnippet().replace(/allow 10\.20\.0\.0\/24;/, `allow ${allow};`);
  const setup = await prepareNginx({ prefix: tempDir('report-nginx'), snippet, rewrite: { treeDir: out, listen: `127.0.0.1:${port}` } });
  const t = await nginxTest(setup);
  assert.is(t.code, 0, await nginxFailure(setup, t));
  return { daemon: await startNginx(setup, { host: '127.0.0.1', port }), port };
}

test("docs/report.md's nginx block: pages for the operators' network only, never the report's list", async () => {
  if (!haveNginx) return;
  const r = await report({ sites: [site('served')], generatedAt: '2026-11-23T12:00:00Z' });
  const out = join(tempDir('report-served'), 'report');
  assert.not.ok('diagnostic' in (await writeReport(out, r.files)));
  writeFileSync(join(out, '.hidden-test'), 'x');
  // As the doc gives it: 127.0.0.1 is not in 10.20.0.0/24.
  const outsider = await serve(out);
  try {
    for (const path of ['/', '/index.html', '/sites/served/index.html'])
      assert.is((await httpGet({ host: '127.0.0.1', port: outsider.port, path })).status, 403, `${path} refused outside`);
  } finally {
    await outsider.daemon.stop();
  }
  // The operators' network is this client's.
  const operator = await serve(out, '127.0.0.1');
  try {
    const index = await httpGet({ host: '127.0.0.1', port: operator.port, path: '/' });
    assert.is(index.status, 200);
    assert.match(index.body.toString(), '<title>harvgen report</title>');
    assert.match(String(index.headers['content-security-policy']), "default-src 'none'");
    assert.is((await httpGet({ host: '127.0.0.1', port: operator.port, path: '/sites/served/print.html' })).status, 200);
    for (const path of ['/.harvgen-report', '/.hidden-test'])
      assert.is((await httpGet({ host: '127.0.0.1', port: operator.port, path })).status, 403, `${path} is refused`);
  } finally {
    await operator.daemon.stop();
  }
});

test.run();
