// validateShape's kept node verdicts (src/validate/schema.ts): a frozen node value the site schema
// found valid is not validated again, and the site is validated with only the other nodes. The
// diagnostics are always those of validating the whole site, each at its node's own index.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadSite } from '../src/load/index.ts';
import { validateShape } from '../src/validate/schema.ts';
import { deepFreeze } from '../src/util/deep-freeze.ts';

const repo = resolve(import.meta.dirname, '..');

test('a frozen node found valid is skipped; errors of the others keep their own index and read as a whole validation', async () => {
  const loaded = await loadSite(resolve(repo, 'sites/location_x'));
  const input = loaded.input as Record<string, unknown> & { nodes: Record<string, unknown>[] };
  assert.ok(input.nodes.length >= 3, 'the example site has several nodes');
  const clone = <T>(v: T): T => structuredClone(v);
  const frozen = input.nodes.map((n) => deepFreeze(clone(n)));
  // Plain copies (never kept), validated whole: what every answer must equal.
  const whole = (nodes: unknown[]) => validateShape({ ...clone(input), nodes: nodes.map(clone) }, loaded.locate);
  const kept = (nodes: unknown[]) => validateShape({ ...clone(input), nodes }, loaded.locate);

  assert.equal(kept(frozen), []);
  // Node 1 broken (another object, frozen): its error is at nodes[1], as the whole site says.
  const bad = deepFreeze({ ...clone(input.nodes[1]!), mtu: 'big', bogus: true });
  const mixed = [frozen[0], bad, ...frozen.slice(2)];
  const found = kept(mixed);
  assert.ok(found.length >= 2, 'the wrong type and the unknown key are both reported');
  assert.equal(found, whole(mixed));
  assert.ok(
    found.every((d) => d.path?.startsWith('nodes[1]')),
    found.map((d) => d.path).join(', '),
  );
  // The broken value is never taken as valid: asked again, it is reported again.
  assert.equal(kept(mixed), found);
  // Moved to the last place, the same broken node is reported there.
  const moved = [...frozen.slice(0, 1), ...frozen.slice(2), bad];
  const last = kept(moved);
  assert.equal(last, whole(moved));
  assert.ok(last.every((d) => d.path?.startsWith(`nodes[${moved.length - 1}]`)));
  // A value that is not frozen is validated every time (it could have changed in place).
  const open = clone(input.nodes[0]!);
  assert.equal(kept([open, ...frozen.slice(1)]), []);
  open.mtu = 'big';
  assert.equal(kept([open, ...frozen.slice(1)]), whole([open, ...frozen.slice(1)]));
  assert.ok(kept([open, ...frozen.slice(1)]).length > 0);
  // A site-level error beside kept nodes is still found.
  assert.equal(validateShape({ ...clone(input), nodes: frozen, bogus_key: 1 }, loaded.locate).length, 1);
});

test("the site schema judges each node alone: `nodes` has no keyword but its items' schema, and that schema no reference out of it", () => {
  // validateShape validates the site with only the nodes not known valid: sound only while no
  // keyword of the schema looks at the list as a whole or from one node at another part.
  const schema = JSON.parse(readFileSync(resolve(repo, 'schema/site.schema.json'), 'utf8')) as {
    properties: { nodes: Record<string, unknown> };
  };
  assert.equal(Object.keys(schema.properties.nodes).sort(), ['description', 'items', 'type']);
  const items = JSON.stringify(schema.properties.nodes.items);
  assert.not.ok(/"\$(ref|data|dynamicRef)"/.test(items), 'no reference from a node to another part');
  for (const k of [
    '$ref',
    'if',
    'dependencies',
    'dependentSchemas',
    'dependentRequired',
    'allOf',
    'anyOf',
    'oneOf',
    'not',
    'patternProperties',
    'unevaluatedProperties',
    'propertyNames',
  ])
    assert.not.ok(Object.hasOwn(schema, k), `no top-level ${k} that could read the nodes`);
  assert.ok(typeof (schema as Record<string, unknown>).additionalProperties === 'boolean', 'no schema for other keys');
});

test.run();
