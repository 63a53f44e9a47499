// The output layout lives in one module (src/derive/layout.ts): every file of a built tree is one
// it names, and the manifest lists each node's script at the path it gives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSite } from '../src/index.ts';
import { DIRS, LAYOUT } from '../src/derive/layout.ts';
import { STANDARD_IPXE_BINARIES } from '../src/model/boot-files.ts';

/** A pattern for each entry of LAYOUT: fixed paths as written, the others with their argument as a wildcard. */
function layoutPatterns(): RegExp[] {
  const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const ARG = '\u0000';
  return Object.values(LAYOUT).map((entry) => {
    if (typeof entry === 'string') return new RegExp(`^${quote(entry)}$`);
    // MAC-named entries take the MAC as their argument (written with hyphens); every argument a wildcard.
    const call = entry as (...args: string[]) => string;
    const sample = call('00:00:00:00:00:00', ARG);
    const text = sample.includes('00-00-00-00-00-00') ? sample.replace('00-00-00-00-00-00', ARG) : call(ARG, ARG);
    return new RegExp(`^${quote(text).replaceAll(ARG, '[^/]+')}${text.endsWith('/') ? '[^/]+' : ''}$`);
  });
}

for (const site of ['location_x', 'location_y']) {
  test(`every file of ${site}'s tree is a path the layout names`, async () => {
    const r = await compileSite(`sites/${site}`);
    assert.ok(r.artifacts && r.artifacts.length > 0);
    const patterns = layoutPatterns();
    const binaries = new Set<string>(STANDARD_IPXE_BINARIES);
    const stray = r.artifacts!.map((a) => a.path).filter((p) => !binaries.has(p) && !patterns.some((re) => re.test(p)));
    assert.equal(stray, []);
    // The manifest's script paths and the nginx locations come from the same layout.
    const manifest = JSON.parse(String(r.artifacts!.find((a) => a.path === LAYOUT.manifest)!.contents)) as {
      nodes: { ipxe: { mac: string; path: string }[] }[];
    };
    for (const n of manifest.nodes) for (const s of n.ipxe) assert.is(s.path, LAYOUT.nodeScript(s.mac));
    const nginx = String(r.artifacts!.find((a) => a.path === LAYOUT.nginx)!.contents);
    assert.ok(nginx.includes(`/${DIRS.scripts}/(`), 'nginx serves the scripts directory of the layout');
  });
}

test.run();
