// A clean inventory file keeps only its text; its Document and LineCounter are parsed on first
// use, once, and give the positions a first parse gives (src/load/yaml/source-file.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { lazySourceFile, PARSE_OPTIONS } from '../src/load/yaml/source-file.ts';

const text = 'mac: 52:54:00:aa:bb:01\nip: 10.0.0.5\ninstall:\n  device: /dev/sda\nconfig:\n  os:\n    labels: { a: "1" }\n';

test('only the path, the absolute path and the text are own fields (no closures or Document per file)', () => {
  const f = lazySourceFile('sites/x/nodes/n1.yaml', '/abs/sites/x/nodes/n1.yaml', text);
  assert.equal(Object.keys(f), ['path', 'absPath', 'text']);
  assert.equal(Object.getOwnPropertyNames(f), ['path', 'absPath', 'text']);
  assert.equal([f.path, f.absPath, f.text], ['sites/x/nodes/n1.yaml', '/abs/sites/x/nodes/n1.yaml', text]);
});

test('the Document is parsed once, on first use, with the positions of a first parse', () => {
  const f = lazySourceFile('n1.yaml', '/n1.yaml', text);
  assert.is(f.doc, f.doc);
  assert.is(f.lineCounter, f.lineCounter);
  const lineCounter = new LineCounter();
  const doc = parseAllDocuments(text, { lineCounter, ...PARSE_OPTIONS })[0] as Document.Parsed;
  assert.equal(f.doc.toJS(), doc.toJS());
  assert.equal(f.lineCounter.lineStarts, lineCounter.lineStarts);
  const device = (d: Document.Parsed) => (d.getIn(['install', 'device'], true) as { range: number[] }).range;
  assert.equal(device(f.doc), device(doc));
  assert.equal(f.lineCounter.linePos(device(f.doc)[0]!), { line: 4, col: 11 });
});

test.run();
