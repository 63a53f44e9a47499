// The report's HTML escapers (src/formats/escape.ts: html, htmlHref): no value can
// open a tag, an entity or a comment, end an attribute, or link outside the report.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ESCAPERS_BY_FORMAT, escapers, UnsafeValueError } from '../src/formats/escape.ts';

function refused(fn: () => unknown, message?: string): void {
  assert.throws(fn, (e: unknown) => e instanceof UnsafeValueError, message);
}

const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='x",
  '&lt;',
  '<!-- x -->',
  ']]><x>',
  'a\nb\tc',
  'a\u0000b\u0007c\u007f',
  '</textarea><svg onload=x>',
  'sha256:ab\u202ecd\u2066ef\u2069',
];

test('html: a value is text only: no tag, entity, comment or quote survives, and it reads back as written', () => {
  for (const v of HOSTILE) {
    const out = escapers.html(v);
    assert.not.ok(/[<>"']/.test(out), `html let a markup character of ${JSON.stringify(v)} through`);
    assert.not.ok(/&(?!amp;|lt;|gt;|quot;|#39;)/.test(out), `html left a bare & in ${JSON.stringify(v)}`);
    // Decoding the five references gives the value back (controls other than tab and newline replaced).
    const back = out
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&');
    assert.is(back, v.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '\ufffd'));
  }
  assert.is(escapers.html('hv-1 52:54:00:aa:bb:01'), 'hv-1 52:54:00:aa:bb:01', 'a plain value is unchanged');
  assert.is(escapers.html(42), '42');
});

test('html: a bidirectional override or isolate cannot make one value read as another', () => {
  assert.is(escapers.html('sha256:ab\u202ecd'), 'sha256:ab\ufffdcd');
  assert.is(escapers.html('\u2066x\u2069'), '\ufffdx\ufffd');
});

test('htmlHref: only a relative link inside the report; a scheme, //, / or a climb in the middle is refused', () => {
  for (const ok of [
    'index.html',
    'sites/location_x/index.html',
    '../../index.html',
    'nodes-2.html',
    '#settings-hv-1',
    'index.html#node-hv-1.lab',
  ])
    assert.is(escapers.htmlHref(ok), ok);
  for (const bad of [
    'https://cdn.example.com/x.js',
    'http://192.168.122.1/',
    '//evil.example/x',
    '/etc/passwd',
    'javascript:alert(1)',
    'data:text/html,x',
    'sites/../../x.html',
    'sites//x.html',
    'a b.html',
    'x.html"onclick="y',
    '',
    '#',
  ])
    refused(() => escapers.htmlHref(bad), `htmlHref let ${JSON.stringify(bad)} through`);
});

test('html pages use only the html escapers', () => {
  assert.equal(ESCAPERS_BY_FORMAT.html, ['html', 'htmlHref', 'int']);
});

test.run();
