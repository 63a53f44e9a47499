// explain() from the library: the node found by hostname or MAC and each value with the line that
// set it; no such node is `ok: false` with the closest hostname; a site with no model says so.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explain, formatExplanation } from '../src/index.ts';

const site = join(import.meta.dirname, '..', 'sites', 'location_x');

test('explain() finds a node by hostname or MAC and tells where each value came from', async () => {
  const byName = await explain({ site, node: 'hv-2' });
  assert.ok(byName.ok, byName.problem);
  assert.is(byName.explanation!.hostname, 'hv-2');
  const mac = byName.compiled.model!.nodes.find((n) => n.hostname === 'hv-2')!.macs[0]!;
  const byMac = await explain({ site, node: mac.toUpperCase() });
  assert.is(byMac.explanation!.hostname, 'hv-2');
  const sourced = byName.explanation!.values.filter((v) => v.source.kind === 'inventory' && v.source.line !== undefined);
  assert.ok(sourced.length > 3, `${sourced.length} values with a line`);
  assert.match(formatExplanation(byName.explanation!), /hv-2/);
});

test('explain() of no such node: ok false, the problem and the closest hostname', async () => {
  const r = await explain({ site, node: 'hv-22' });
  assert.is(r.ok, false);
  assert.is(r.explanation, undefined);
  assert.is(r.suggestion, 'hv-2');
  assert.match(r.problem!, /has no node "hv-22" \(by hostname or MAC\); did you mean "hv-2"\?/);
  const none = await explain({ site: join(site, 'nope'), node: 'hv-2' });
  assert.is(none.ok, false);
  assert.ok(none.diagnostics.some((d) => d.severity === 'error'));
  assert.match(none.problem!, /has no model to explain/);
});

test.run();
