// settingsSorter (src/model/kinds/index.ts) sorts each node's layers into settings read and
// ignored. A node object kept from an earlier compile (watch's model cache) is answered from what
// was found for it, without a reader, once this compile has sorted its shared layers: each compile
// copies the site's `defaults:`, so those layers are other objects every time, known by path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { settingsSorter, type IgnoredSetting } from '../src/model/kinds/index.ts';
import type { NodeReader } from '../src/model/layers.ts';
import type { ResolvedNode } from '../src/model/types.ts';

/** Nodes of two kinds (frozen, as resolved ones are), each with an ignored setting of its own. */
const nodes = Array.from({ length: 6 }, (_v, i) =>
  Object.freeze({ boot: i % 3 === 2 ? 'os' : 'harvester', hostname: `n${i}`, index: i }),
) as unknown as ResolvedNode[];

/** One compile over `nodes` with `defaults` as the shared layer: readers made, and what was found. */
function compile(defaults: Record<string, unknown>): { readers: number; used: string[]; ignored: IgnoredSetting[] } {
  const used = new Set<string>();
  const ignored: IgnoredSetting[] = [];
  const sort = settingsSorter(used, ignored);
  let readers = 0;
  for (const node of nodes) {
    const own = node.boot === 'os' ? { mtu: 9000 } : { cloud_init: { user_data: 'x' } };
    const reader = () => {
      readers++;
      return {
        chain: [
          { value: own, path: ['nodes', node.index] },
          { value: defaults, path: ['defaults'] },
        ],
      } as unknown as NodeReader;
    };
    sort(reader, node);
  }
  return { readers, used: [...used].sort(), ignored };
}

test('a kept node needs no reader once its shared layers are sorted in this compile, whatever object `defaults:` is', () => {
  const defaults = { mtu: 1500, cloud_init: { user_data: 'y' }, install: { device: '/dev/vda' } };
  const first = compile(defaults);
  assert.is(first.readers, nodes.length, 'the first compile reads every node');
  for (let k = 0; k < 3; k++) {
    // A copy of `defaults:` each time, as each compile makes.
    const again = compile({ ...defaults });
    assert.is(again.readers, 2, 'one reader for each kind, to sort the new copy');
    assert.equal(again.used, first.used);
    assert.equal(again.ignored, first.ignored);
  }
});

test.run();
