// What must agree with the declarations of what a node is served (src/derive/configs/) and of
// the kinds of node: the `--json` schema's `boot` enum and `status`'s fetch kinds, and the nginx
// locations of each format (one loop in templates/nginx.conf.eta, checked for each format).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NODE_KINDS } from '../src/model/ignored.ts';
import { CONFIG_FORMATS } from '../src/derive/configs/index.ts';

const repo = join(import.meta.dirname, '..');
const schema = JSON.parse(readFileSync(join(repo, 'schema/cli-output.schema.json'), 'utf8')) as Record<string, unknown>;

/** The `properties` of the object at `path` in the schema. */
function node(path: string[]): Record<string, { enum?: string[]; properties?: Record<string, unknown> }> {
  let o: unknown = schema;
  for (const k of path) o = (o as Record<string, unknown>)[k];
  return (o as { properties: Record<string, { enum?: string[] }> }).properties;
}

test("the --json schema's boot enum is every kind of node", () => {
  const status = node(['properties', 'nodes', 'items']);
  assert.equal([...(status.boot!.enum ?? [])].sort(), [...NODE_KINDS].sort());
});

test("status's fetch kinds are the script, the boot files and every served config format's", () => {
  const fetches = Object.keys(node(['properties', 'nodes', 'items']).fetches!.properties ?? {});
  const want = new Set(['script', 'kernel', 'initrd', 'rootfs', 'iso', ...CONFIG_FORMATS.map((f) => f.fetch)]);
  assert.equal(fetches.sort(), [...want].sort());
});

test('each format declares its protection, a name pattern nginx and status both accept, and owners', () => {
  const names = new Set<string>();
  for (const f of CONFIG_FORMATS) {
    assert.not.ok(names.has(f.name), f.name);
    names.add(f.name);
    assert.equal(f.protection, { address: 'node', keyed: true, noStore: true }, f.name);
    for (const keyed of [false, true]) {
      const { nginx, status } = f.pattern(keyed);
      new RegExp(`^${nginx}$`);
      assert.ok(new RegExp(`^${status}$`).source.includes('('), `${f.name}: status captures the owner`);
    }
    const sample = f.owner === 'host' ? 'hv-1' : '52:54:00:aa:bb:01';
    const plain = f.plain(sample).slice(f.dir.length + 1);
    const file = `${plain}${f.entries?.[0] ?? ''}`;
    assert.ok(new RegExp(`^${f.pattern(false).nginx}$`).test(file), `${f.name}: nginx serves ${file}`);
    const m = new RegExp(`^${f.pattern(false).status}$`).exec(file);
    assert.ok(m, `${f.name}: status recognises ${file}`);
  }
});

test.run();
