// watch(): one build at start, another after an inventory change, and a failed rebuild
// keeps the previous output.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { watch, type WatchEvent } from '../src/index.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

test('watch rebuilds after a change and keeps the output when the change is invalid', async () => {
  const site = tempDir();
  cpSync(join(repo, 'sites/location_x'), site, { recursive: true });
  const out = tempDir();
  const events: WatchEvent[] = [];
  let notify: () => void = () => undefined;
  const handle = watch({
    sites: [site],
    outDir: out,
    debounceMs: 50,
    onBuild: (e) => {
      events.push(e);
      notify();
    },
  });
  const next = () =>
    new Promise<void>((r) => {
      notify = r;
      setTimeout(r, 10_000);
    });
  try {
    await handle.ready;
    assert.is(events.length, 1);
    assert.ok(events[0]!.result.ok);
    const yamlPath = join(site, 'site.yaml');
    const original = readFileSync(yamlPath, 'utf8');
    let wait = next();
    writeFileSync(yamlPath, original.replace('0.suse.pool.ntp.org', '2.suse.pool.ntp.org'));
    await wait;
    assert.is(events.length, 2);
    assert.ok(events[1]!.result.ok);
    assert.ok(events[1]!.changed.some((p) => p.endsWith('site.yaml')));
    assert.match(readFileSync(join(out, 'location_x/harvester/hv-1.yaml'), 'utf8'), /2\.suse\.pool\.ntp\.org/);
    wait = next();
    writeFileSync(yamlPath, original.replace('hostname: hv-2', 'hostname: HV_2'));
    await wait;
    assert.is(events.length, 3);
    assert.is(events[2]!.result.ok, false);
    assert.match(readFileSync(join(out, 'location_x/harvester/hv-1.yaml'), 'utf8'), /2\.suse\.pool\.ntp\.org/, 'previous output kept');
  } finally {
    await handle.close();
  }
});

test.run();
