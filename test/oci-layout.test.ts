// OCI image layouts write every file through the durable layer: a blob streamed in goes to one of
// the layer's temporaries (so `removeStaleTemps` knows what a killed writer left), and a write that
// fails (a source that errors, bytes that do not hash to their name) leaves no temp behind and no
// target.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TEMP_MARK } from '../src/durable/index.ts';
import { OciLayout, sha256Digest } from '../src/oci/index.ts';
import { tempDir } from './helpers/tmp.ts';

const blobsOf = (dir: string): string[] => readdirSync(path.join(dir, 'blobs', 'sha256')).sort();

test('a blob streamed in is written through a durable-layer temp; a failed write leaves nothing', async () => {
  const dir = path.join(tempDir('oci-layout-temps'), 'l');
  const layout = await OciLayout.create(dir);
  const bytes = Buffer.from('streamed blob\n');
  const digest = sha256Digest(bytes);
  // Mid-write: the temp is the durable layer's (its mark and this pid), beside the target.
  const source = new PassThrough();
  const writing = layout.writeBlobStream(digest, source, bytes.length);
  source.write(bytes.subarray(0, 4));
  for (let i = 0; i < 50 && blobsOf(dir).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  const during = blobsOf(dir);
  assert.is(during.length, 1, during.join(' '));
  assert.ok(during[0]!.startsWith(`.${digest.slice(7)}${TEMP_MARK}-${process.pid}-`), during[0]);
  source.end(bytes.subarray(4));
  await writing;
  assert.equal(blobsOf(dir), [digest.slice(7)]);
  // Wrong bytes, and a source that fails: refused, and no temp left.
  const other = sha256Digest(Buffer.from('other'));
  const wrong = new PassThrough();
  wrong.end('not the other bytes');
  await layout.writeBlobStream(other, wrong).then(
    () => assert.unreachable('wrong bytes were kept'),
    (e: Error) => assert.match(e.message, 'refused'),
  );
  const failing = new PassThrough();
  failing.write('half');
  setTimeout(() => failing.destroy(new Error('source failed')), 20);
  await layout.writeBlobStream(other, failing).then(
    () => assert.unreachable('a failed source was kept'),
    (e: Error) => assert.match(e.message, 'source failed'),
  );
  assert.equal(blobsOf(dir), [digest.slice(7)], 'neither a temp nor the refused blob');
  assert.equal(readdirSync(dir).sort(), ['blobs', 'index.json', 'oci-layout']);
});

test.run();
