// watch's incremental rebuilds (resolved nodes and rendered nodes reused across rebuilds,
// src/model/cache.ts and RenderCache): after every kind of edit, the watched tree is byte for byte
// the tree a fresh build of the same inventory writes. Edits: one node's value, a node file added
// and one removed (every later node changes index), a site-level value every node reads, the shared
// layers (sites/_defaults.yaml, a profile), an error and its fix, a new warning. The site exports
// BSS boot parameters, whose per-node entries are reused (src/render/fragments.ts), and embed.ipxe,
// whose per-node parts are numbered across the site.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateRichRepo, nodeFile, RICH_TOKEN_ENV, richNodeText } from '../bench/gen.ts';
import { build, watch, type WatchEvent } from '../src/index.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

test('after each edit the watched tree equals a fresh build of the same inventory', async () => {
  process.env[RICH_TOKEN_ENV] ??= 'bench-env-token-0123456789abcdef';
  const root = tempDir('watch-incr');
  const nodes = 24;
  const [siteDir] = generateRichRepo(root, 1, nodes);
  const sites = [siteDir!.slice(root.length + 1)];
  // The BSS export too: a site-wide file assembled from per-node parts (src/render/fragments.ts).
  writeFileSync(join(siteDir!, 'site.yaml'), `${readFileSync(join(siteDir!, 'site.yaml'), 'utf8')}bss:\n  export: true\n`);
  const out = join(root, 'out-watch');
  const events: WatchEvent[] = [];
  let notify: () => void = () => undefined;
  const handle = watch({
    cwd: root,
    sites,
    outDir: 'out-watch',
    debounceMs: 30,
    onBuild: (e) => {
      events.push(e);
      notify();
    },
  });
  let fresh = 0;
  /** Apply an edit, wait for watch's rebuild, and compare its tree with a fresh build's. */
  const step = async (what: string, edit: () => void, expect: 'ok' | 'error' = 'ok') => {
    const count = events.length;
    const rebuilt = new Promise<void>((r) => {
      notify = r;
      setTimeout(r, 20_000);
    });
    edit();
    await rebuilt;
    assert.is(events.length, count + 1, `${what}: rebuilt once`);
    const result = events.at(-1)!.result;
    const fresher = await build({ cwd: root, sites, outDir: `out-fresh-${fresh++}` });
    assert.is(result.ok, expect === 'ok', `${what}: ${result.diagnostics.map((d) => d.code).join(' ')}`);
    assert.is(fresher.ok, result.ok, `${what}: the fresh build agrees`);
    assert.equal(
      result.diagnostics.map((d) => [d.code, d.severity, d.message, d.file, d.line]),
      fresher.diagnostics.map((d) => [d.code, d.severity, d.message, d.file, d.line]),
      `${what}: the same diagnostics`,
    );
    if (expect === 'ok') {
      const [watched, built] = [readTree(out), readTree(join(root, `out-fresh-${fresh - 1}`))];
      const differ = [...new Set([...watched.keys(), ...built.keys()])].filter((p) => watched.get(p) !== built.get(p));
      assert.equal(differ, [], `${what}: byte-identical to a fresh build`);
    }
    return result;
  };
  const rewrite = (path: string, change: (text: string) => string) => writeFileSync(path, change(readFileSync(path, 'utf8')));
  try {
    await handle.ready;
    assert.ok(events[0]!.result.ok);
    const bss = () => JSON.parse(readFileSync(join(out, 'r000/bss/bootparameters.json'), 'utf8')) as { params: string }[];
    assert.ok(bss().length > 0 && !bss().some((e) => e.params.split(' ').includes('quiet')), 'BSS entries exported');
    const site = join(siteDir!, 'site.yaml');
    await step('one node value', () => rewrite(nodeFile(root, 0, 7), (t) => t.replace(/device: [^\n]*/, 'device: /dev/vdc')));
    const statics = () => (readFileSync(join(out, 'r000/embed.ipxe'), 'utf8').match(/^:harvgen_static_/gm) ?? []).length;
    const numbered = statics();
    assert.ok(numbered > 4, 'embed.ipxe numbers the static MACs');
    // embed.ipxe numbers the static MACs across the site: every later node's part moves.
    await step('a node gets a third MAC', () =>
      rewrite(nodeFile(root, 0, 1), (t) => t.replace(/^macs: \[([^\]]*)\]/m, 'macs: [$1, b4:96:00:ee:00:01]')),
    );
    assert.is(statics(), numbered + 1, 'its new MAC has a static block');
    await step('a node added', () => writeFileSync(nodeFile(root, 0, nodes), richNodeText(0, nodes)));
    await step('a node removed (later nodes move up)', () => rmSync(nodeFile(root, 0, 3)));
    // The last node: every node before it keeps its place (site-wide lists only get shorter).
    await step('the last node removed', () => rmSync(nodeFile(root, 0, nodes)));
    await step('a site-level value', () =>
      rewrite(site, (t) => t.replace(/dns: \[([\d.]+), /, 'dns: [$1, 10.100.0.4, ').replace('ip=dhcp, ro]', 'ip=dhcp, ro, quiet]')),
    );
    assert.ok(
      bss().some((e) => e.params.split(' ').includes('quiet')),
      'BSS params follow the site-level OS profile',
    );
    await step('sites/_defaults.yaml', () =>
      rewrite(join(root, 'sites/_defaults.yaml'), (t) =>
        t.replace('ntp1.example.net', 'ntp2.example.net').replace('[nomodeset]', '[nomodeset, quiet]'),
      ),
    );
    await step('a profile', () => rewrite(join(root, 'sites/_profiles/r650.yaml'), (t) => t.replace('mtu: 9000', 'mtu: 1500')));
    await step('an error', () => rewrite(nodeFile(root, 0, 9), (t) => t.replace(/ip: [^\n]*/, 'ip: 10.100.1.2')), 'error');
    await step('the error fixed', () => rewrite(nodeFile(root, 0, 9), (t) => t.replace(/ip: [^\n]*/, 'ip: 10.100.1.77')));
    // Fewer files served with the same owners: the protected list follows the served paths.
    await step('an OS node kept on its disk (no cloud-init files)', () => rewrite(nodeFile(root, 0, 9), (t) => `${t}state: local\n`));
    await step('and installing again', () => rewrite(nodeFile(root, 0, 9), (t) => t.replace('state: local\n', '')));
    const warnings = (r: { diagnostics: readonly { severity: string }[] }) => r.diagnostics.filter((d) => d.severity === 'warning').length;
    const before = warnings(events.at(-1)!.result);
    const warned = await step('a new warning', () => rewrite(nodeFile(root, 0, 19), (t) => `${t}mtu: 1400\n`));
    assert.ok(warnings(warned) > before, 'the new warning is reported');
    await step('the same node edited again', () => rewrite(nodeFile(root, 0, 19), (t) => t.replace('mtu: 1400', 'mtu: 1300')));
  } finally {
    await handle.close();
  }
});

test.run();
