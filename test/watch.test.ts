// watch(): one build at start, another after an inventory change, and a failed rebuild
// keeps the previous output. It watches what the up-to-date check records (secret files,
// user-data files, iPXE binaries, not only the YAML files): a change to any of them rebuilds.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { generateRepo, nodeFile, nodeText } from '../bench/gen.ts';
import { build, watch, type WatchEvent, type WatchOptions } from '../src/index.ts';
import { watchInventory, type InventoryWatch } from '../src/watch/inventory.ts';
import { RACY_MS } from '../src/load/stamps.ts';
import type { ParseCache } from '../src/load/index.ts';
import { EXAMPLE_SECRETS, exampleSite, exampleWithSecrets } from './helpers/example.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

/** A watch whose rebuilds are collected; `next()` resolves at the next one (or after 10 s). */
function session(options: Omit<WatchOptions, 'onBuild'>) {
  const events: WatchEvent[] = [];
  let notify: () => void = () => undefined;
  const handle = watch({
    ...options,
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
  return { handle, events, next };
}

/** Past the window in which a file's stamp is racy (src/load/stamps.ts). */
const pastRacy = () => new Promise((r) => setTimeout(r, RACY_MS + 20));

/** The watched output of site s000 is byte for byte a fresh build's. */
async function sameAsFresh(root: string, sites: string[], out: string): Promise<void> {
  const fresh = join(root, 'fresh');
  assert.ok((await build({ sites, outDir: fresh, cwd: root })).ok);
  assert.equal(readTree(join(out, 's000')), readTree(join(fresh, 's000')));
}

/** A repository of one 3-node site whose node 2's file is a link to `target` (relative to the root). */
async function linkedNodeRepo(name: string, target: string) {
  const root = tempDir(name);
  const sites = generateRepo(root, 1, 3);
  const abs = join(root, target);
  mkdirSync(dirname(abs));
  writeFileSync(abs, nodeText(0, 2));
  rmSync(nodeFile(root, 0, 2));
  symlinkSync(abs, nodeFile(root, 0, 2));
  await pastRacy();
  return { root, sites, target: abs };
}

test('watch rebuilds after a change and keeps the output when the change is invalid', async () => {
  const site = tempDir();
  cpSync(join(repo, 'sites/location_x'), site, { recursive: true });
  const out = tempDir();
  const { handle, events, next } = session({ sites: [site], outDir: out, debounceMs: 50 });
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

test("watch sees a site's facts: a facts file made after it started fails the rebuild where the machine has no disk at install.device, its correction passes", async () => {
  const site = tempDir();
  cpSync(join(repo, 'sites/location_x'), site, { recursive: true });
  const out = tempDir();
  const { handle, events, next } = session({ sites: [site], outDir: out, debounceMs: 50 });
  const facts = (disk: string) =>
    [
      'measured: { source: dump, from: hv-1.facts, at: 2026-11-27T00:00:00Z }',
      'disks:',
      `  - { name: ${disk}, size_gib: 300 }`,
      'nics:',
      '  - { mac: "52:54:00:aa:bb:01", name: enp1s0 }',
      '',
    ].join('\n');
  try {
    await handle.ready;
    assert.ok(events[0]!.result.ok);
    let wait = next();
    mkdirSync(join(site, 'facts'));
    writeFileSync(join(site, 'facts', 'hv-1.yaml'), facts('sda'));
    await wait;
    assert.is(events.length, 2);
    assert.is(events[1]!.result.ok, false);
    assert.ok(events[1]!.result.diagnostics.some((d) => d.code === 'INSTALLER_DEVICE_MISSING' && d.file?.endsWith('facts/hv-1.yaml')));
    wait = next();
    writeFileSync(join(site, 'facts', 'hv-1.yaml'), facts('vda'));
    await wait;
    assert.is(events.length, 3);
    assert.ok(events[2]!.result.ok, JSON.stringify(events[2]!.result.diagnostics));
  } finally {
    await handle.close();
  }
});

/**
 * The inventory watch of a copy of location_x in a directory of its own (no shared layer next to
 * it), with the number of failed watches; closed after `body`.
 */
async function withInventory(label: string, body: (inventory: InventoryWatch, site: string, failed: () => number) => Promise<void>) {
  const root = tempDir(label);
  const site = join(root, 'site');
  cpSync(join(repo, 'sites/location_x'), site, { recursive: true });
  let failed = 0;
  const inventory = watchInventory(
    [{ dir: site, abs: site }],
    root,
    undefined,
    () => undefined,
    () => failed++,
  );
  try {
    await body(inventory, site, () => failed);
  } finally {
    inventory.close();
    await inventory.chokidar.close();
  }
}
const chokidarReady = (inventory: InventoryWatch) => new Promise<void>((r) => inventory.chokidar.once('ready', () => r()));

test("chokidar's ready comes after it watches the site's files when no shared layer exists next to the site", async () => {
  // chokidar counts a path that does not exist twice towards `ready` and so reports it before it
  // has read the site directory; watch's first build waits for `ready`, and is synchronous: an edit
  // made right after it went unseen. The absent layers are watched through their directory instead.
  await withInventory('watch-ready', async (inventory, site, failed) => {
    await chokidarReady(inventory);
    const watched = inventory.chokidar.getWatched();
    assert.ok(watched[site]?.includes('site.yaml'), JSON.stringify(watched));
    assert.is(failed(), 0);
  });
});

test('an error of chokidar before it is ready is not thrown: it counts as a failed watch (no parse trusted)', async () => {
  // chokidar reports a directory of a site it cannot read (EACCES, not seen as root) as an
  // 'error' event during its first scan; an 'error' nobody listens to is thrown.
  await withInventory('watch-error', async (inventory, _site, failed) => {
    inventory.chokidar.emit('error', Object.assign(new Error('EACCES: permission denied, scandir'), { code: 'EACCES' }));
    assert.is(failed(), 1);
    await chokidarReady(inventory);
  });
});

test('shared layers made after watch started are seen: _defaults.yaml made and removed, _profiles/ made, removed, made again and replaced, a profile in it edited each time', async () => {
  const root = tempDir('watch-layers');
  const site = join(root, 'sites/location_x');
  cpSync(join(repo, 'sites/location_x'), site, { recursive: true });
  mkdirSync(join(root, '.git')); // the layers are read inside a repository only
  const out = join(root, 'out');
  const { handle, events, next } = session({ sites: ['sites/location_x'], outDir: out, cwd: root, debounceMs: 30 });
  /** Do `change`, then wait for the rebuild it causes: its changed paths. */
  const rebuilt = async (change: () => void): Promise<readonly string[]> => {
    const before = events.length;
    const wait = next();
    change();
    await wait;
    assert.is(events.length, before + 1, 'a rebuild after the change');
    return events[before]!.changed;
  };
  try {
    await handle.ready;
    const defaults = join(root, 'sites/_defaults.yaml');
    assert.ok((await rebuilt(() => writeFileSync(defaults, 'mtu: 9000\n'))).includes('sites/_defaults.yaml'));
    assert.match(readFileSync(join(out, 'location_x/harvester/hv-1.yaml'), 'utf8'), /mtu: 9000/);
    await rebuilt(() => mkdirSync(join(root, 'sites/_profiles')));
    const profile = join(root, 'sites/_profiles/p.yaml');
    await rebuilt(() => writeFileSync(profile, 'mtu: 8100\n'));
    await pastRacy();
    assert.ok((await rebuilt(() => writeFileSync(profile, 'mtu: 8200\n'))).includes('sites/_profiles/p.yaml'));
    // The profile is used once a layer names it.
    await rebuilt(() => writeFileSync(defaults, 'profile: p\n'));
    assert.match(readFileSync(join(out, 'location_x/harvester/hv-1.yaml'), 'utf8'), /mtu: 8200/);
    await pastRacy();
    await rebuilt(() => writeFileSync(profile, 'mtu: 8300\n'));
    assert.match(readFileSync(join(out, 'location_x/harvester/hv-1.yaml'), 'utf8'), /mtu: 8300/);
    // _profiles/ removed and made again, then put in place by a rename: the profile inside is watched each time.
    const hv1 = () => readFileSync(join(out, 'location_x/harvester/hv-1.yaml'), 'utf8');
    await rebuilt(() => rmSync(join(root, 'sites/_profiles'), { recursive: true }));
    assert.not.ok(events.at(-1)!.result.ok, 'the profile named is gone');
    await rebuilt(() => mkdirSync(join(root, 'sites/_profiles')));
    await rebuilt(() => writeFileSync(profile, 'mtu: 8400\n'));
    await pastRacy();
    await rebuilt(() => writeFileSync(profile, 'mtu: 8500\n'));
    assert.match(hv1(), /mtu: 8500/);
    const other = join(root, 'other-profiles');
    mkdirSync(other);
    writeFileSync(join(other, 'p.yaml'), 'mtu: 8600\n');
    await pastRacy();
    await rebuilt(() => {
      rmSync(join(root, 'sites/_profiles'), { recursive: true });
      renameSync(other, join(root, 'sites/_profiles'));
    });
    assert.match(hv1(), /mtu: 8600/);
    await pastRacy();
    await rebuilt(() => writeFileSync(profile, 'mtu: 8700\n'));
    assert.match(hv1(), /mtu: 8700/);
    assert.ok((await rebuilt(() => rmSync(defaults))).includes('sites/_defaults.yaml'));
    assert.not.match(hv1(), /mtu: 8/);
    assert.ok(events.at(-1)!.result.ok);
  } finally {
    await handle.close();
  }
});

test('watch compiles only the site that changed; a shared layer recompiles all; the output equals a fresh build', async () => {
  const root = tempDir('watch-inc');
  const sites = generateRepo(root, 3, 4);
  await pastRacy(); // so that the first build's stamps are not racy
  const out = join(root, 'out');
  const { handle, events, next } = session({ sites, outDir: out, cwd: root, debounceMs: 30 });
  const upToDate = (e: WatchEvent) => e.result.sites.map((s) => s.upToDate === true);
  try {
    await handle.ready;
    assert.equal(upToDate(events[0]!), [false, false, false]);
    let wait = next();
    writeFileSync(nodeFile(root, 1, 2), `${nodeText(1, 2)}install:\n  device: /dev/vdb\n`);
    await wait;
    assert.equal(upToDate(events[1]!), [true, false, true], JSON.stringify(events[1]!.changed));
    assert.match(readFileSync(join(out, 's001/harvester/n00002.yaml'), 'utf8'), /device: \/dev\/vdb/);
    wait = next();
    writeFileSync(join(root, 'sites/_defaults.yaml'), 'mtu: 9000\n');
    await wait;
    assert.ok(events[2]!.result.ok, JSON.stringify(events[2]!.result.diagnostics));
    assert.equal(upToDate(events[2]!), [false, false, false]);
    // A site-wide value every node's files hold: the nodes rendered before are rendered again.
    wait = next();
    const yaml = join(root, 'sites/s001/site.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('0.suse.pool.ntp.org', 'ntp.example.org'));
    await wait;
    // s001 again. The other two depend on timing, and either is right: when the previous rebuild
    // read _defaults.yaml within RACY_MS of its change, that stamp is racy and never trusted, so
    // they are compiled once more; on a loaded machine the read comes later and they are up to
    // date. The tree is compared with a fresh build below either way.
    assert.is(upToDate(events[3]!)[1], false);
    assert.match(readFileSync(join(out, 's001/harvester/n00003.yaml'), 'utf8'), /ntp\.example\.org/);
  } finally {
    await handle.close();
  }
  // What watch left is what a fresh build writes.
  const fresh = join(root, 'fresh');
  assert.ok((await build({ sites, outDir: fresh, cwd: root })).ok);
  for (const s of ['s000', 's001', 's002']) assert.equal(readTree(join(out, s)), readTree(join(fresh, s)), s);
});

test('watch takes the files it wrote on trust; the next plain build looks at them and repairs one changed by hand', async () => {
  const root = tempDir('watch-trust');
  const sites = generateRepo(root, 1, 4);
  await pastRacy();
  const out = join(root, 'out');
  const { handle, events, next } = session({ sites, outDir: out, cwd: root, debounceMs: 30 });
  const other = join(out, 's000/harvester/n00001.yaml');
  const original = () => readFileSync(other, 'utf8');
  let before = '';
  try {
    await handle.ready;
    assert.ok(events[0]!.result.ok);
    before = original();
    // Changed by hand, same size, while watch runs; then another node's file is edited.
    const changed = before.replace('n00001', 'n0000X');
    assert.is.not(changed, before);
    writeFileSync(other, changed);
    const wait = next();
    writeFileSync(nodeFile(root, 0, 2), `${nodeText(0, 2)}install:\n  device: /dev/vdb\n`);
    await wait;
    assert.ok(events[1]!.result.ok, JSON.stringify(events[1]!.result.diagnostics));
    assert.match(readFileSync(join(out, 's000/harvester/n00002.yaml'), 'utf8'), /device: \/dev\/vdb/);
    // Not looked at: watch wrote its bytes and took them as they were.
    assert.is(original(), changed);
  } finally {
    await handle.close();
  }
  // The record watch wrote does not vouch for it: a plain build compiles the site and repairs it.
  const again = await build({ sites, outDir: out, cwd: root });
  assert.ok(again.ok);
  assert.is(again.sites[0]!.upToDate, undefined, 'compiled, not skipped');
  assert.is(original(), before);
  await sameAsFresh(root, sites, out);
});

test("watch does not walk the output it wrote, yet never writes through a link put there; a deleted file is the next plain build's", async () => {
  const root = tempDir('watch-tree');
  const sites = generateRepo(root, 1, 4);
  await pastRacy();
  const out = join(root, 'out');
  const outside = join(root, 'outside');
  mkdirSync(outside);
  const { handle, events, next } = session({ sites, outDir: out, cwd: root, debounceMs: 30 });
  const edit = async (k: number, device: string) => {
    await new Promise((r) => setTimeout(r, RACY_MS + 50));
    const wait = next();
    writeFileSync(nodeFile(root, 0, k), `${nodeText(0, k)}install:\n  device: ${device}\n`);
    await wait;
    return events.at(-1)!.result;
  };
  const harvester = join(out, 's000/harvester');
  try {
    await handle.ready;
    assert.ok((await edit(0, '/dev/vdb')).ok, 'a rebuild over the output watch wrote');
    // Deleted by hand while watch runs: not looked for (watch takes its output as it left it).
    rmSync(join(harvester, 'n00001.yaml'));
    assert.ok((await edit(2, '/dev/vdc')).ok);
    assert.not.ok(existsSync(join(harvester, 'n00001.yaml')), 'not walked: the deleted file stays deleted');
    // A directory of the output swapped for a link to somewhere else: refused, nothing written there.
    renameSync(harvester, join(root, 'moved'));
    symlinkSync(outside, harvester);
    const refused = await edit(3, '/dev/vdd');
    assert.is(refused.ok, false);
    assert.ok(
      refused.diagnostics.some((d) => d.code === 'EMIT_SYMLINK_REFUSED'),
      JSON.stringify(refused.diagnostics.map((d) => d.code)),
    );
    assert.equal(readdirSync(outside), [], 'nothing written through the link');
  } finally {
    await handle.close();
  }
  // With the link gone, the next plain build looks at the whole output and puts every file back.
  rmSync(harvester);
  renameSync(join(root, 'moved'), harvester);
  const again = await build({ sites, outDir: out, cwd: root });
  assert.ok(again.ok, JSON.stringify(again.diagnostics));
  await sameAsFresh(root, sites, out);
});

test('a trusted parse is reused without a stat until watch takes the trust back; a linked node file never is', async () => {
  // Node 2's file is a link to a file beside it: its target can change where no event is reported.
  const { root, sites, target } = await linkedNodeRepo('parse-trust', 'sites/s000/shared/n00002.yaml');
  const out = join(root, 'out');
  const parseCache: ParseCache = Object.assign(new Map(), { trust: 0 });
  const config = (k: number) => readFileSync(join(out, `s000/harvester/n0000${k}.yaml`), 'utf8');
  const run = async () => assert.ok((await build({ sites, outDir: out, cwd: root, parseCache })).ok);
  await run();
  const kept = parseCache.get(nodeFile(root, 0, 1));
  assert.is(kept?.trust, 0, 'read while trusted');
  assert.is(parseCache.get(nodeFile(root, 0, 2))?.trust, undefined, 'a link is not trusted');
  // Both files change with no event told to the cache.
  writeFileSync(nodeFile(root, 0, 1), `${nodeText(0, 1)}install:\n  device: /dev/vdb\n`);
  writeFileSync(target, `${nodeText(0, 2)}install:\n  device: /dev/vdc\n`);
  await pastRacy();
  await run();
  assert.not.match(config(1), /\/dev\/vdb/, 'the trusted parse was reused, unstatted');
  assert.match(config(2), /\/dev\/vdc/, 'the link was statted and read again');
  // A new generation (watch's answer to any event but a file's change) takes every trust back.
  parseCache.trust!++;
  await run();
  assert.match(config(1), /\/dev\/vdb/);
  assert.is(parseCache.get(nodeFile(root, 0, 1))?.trust, 1, 'read again, trusted at the new generation');
  // Without trust (watch's answer to a watcher error), every file is statted.
  parseCache.trust = undefined;
  writeFileSync(nodeFile(root, 0, 1), `${nodeText(0, 1)}install:\n  device: /dev/vdd\n`);
  await pastRacy();
  await run();
  assert.match(config(1), /\/dev\/vdd/);
});

test('watch sees every kind of edit with its parses trusted: in place, by rename, a new node file, one removed and written again', async () => {
  const root = tempDir('watch-parse-trust');
  const sites = generateRepo(root, 1, 3);
  await pastRacy();
  const out = join(root, 'out');
  const { handle, events, next } = session({ sites, outDir: out, cwd: root, debounceMs: 30 });
  const config = (k: number) => readFileSync(join(out, `s000/harvester/n0000${k}.yaml`), 'utf8');
  const edit = async (change: () => void) => {
    // Apart from the last edit by more than a racy stamp's window, as edits by hand are.
    await new Promise((r) => setTimeout(r, RACY_MS + 50));
    const wait = next();
    change();
    await wait;
    const last = events.at(-1)!;
    assert.ok(last.result.ok, JSON.stringify(last.result.diagnostics));
  };
  try {
    await handle.ready;
    // A rebuild after `ready`, so that every parse is trusted before the edits below.
    await edit(() => writeFileSync(nodeFile(root, 0, 0), `${nodeText(0, 0)}install:\n  device: /dev/vdb\n`));
    await edit(() => writeFileSync(nodeFile(root, 0, 1), `${nodeText(0, 1)}install:\n  device: /dev/vdc\n`));
    assert.match(config(1), /\/dev\/vdc/, 'in place');
    await edit(() => {
      writeFileSync(`${nodeFile(root, 0, 1)}.tmp`, `${nodeText(0, 1)}install:\n  device: /dev/vdd\n`);
      renameSync(`${nodeFile(root, 0, 1)}.tmp`, nodeFile(root, 0, 1));
    });
    assert.match(config(1), /\/dev\/vdd/, 'by rename');
    await edit(() => writeFileSync(nodeFile(root, 0, 3), nodeText(0, 3)));
    assert.ok(existsSync(join(out, 's000/harvester/n00003.yaml')), 'a new node file');
    await edit(() => rmSync(nodeFile(root, 0, 2)));
    assert.not.ok(existsSync(join(out, 's000/harvester/n00002.yaml')), 'a removed one');
    // Written again with other contents: an `add`, not a `change`, for a path whose parse is kept.
    await edit(() => writeFileSync(nodeFile(root, 0, 2), `${nodeText(0, 2)}install:\n  device: /dev/vdf\n`));
    assert.match(config(2), /\/dev\/vdf/, 'removed, then written again');
    await edit(() => writeFileSync(nodeFile(root, 0, 0), `${nodeText(0, 0)}install:\n  device: /dev/vde\n`));
    assert.match(config(0), /\/dev\/vde/);
  } finally {
    await handle.close();
  }
  await sameAsFresh(root, sites, out);
});

test('the node trees: a new subdirectory, a directory moved in and out, nodes/ removed and made again, a link whose target is edited', async () => {
  // Node 2's file is a link to a file outside the site directory: only a watch on the link sees its edits.
  const { root, sites, target } = await linkedNodeRepo('watch-trees', 'shared/n00002.yaml');
  const out = join(root, 'out');
  const nodes = join(root, 'sites/s000/nodes');
  // A relative cwd (as chokidar gets it: its `ignored` paths then lie under the process's cwd).
  const { handle, events, next } = session({ sites, outDir: out, cwd: relative(process.cwd(), root), debounceMs: 30 });
  const has = (k: number) => existsSync(join(out, `s000/harvester/n0000${k}.yaml`));
  const config = (k: number) => readFileSync(join(out, `s000/harvester/n0000${k}.yaml`), 'utf8');
  const edit = async (change: () => void) => {
    await new Promise((r) => setTimeout(r, RACY_MS + 50));
    const wait = next();
    const before = events.length;
    change();
    await wait;
    assert.is(events.length, before + 1, 'the change was seen');
    const last = events.at(-1)!;
    assert.ok(last.result.ok, JSON.stringify(last.result.diagnostics));
    return last;
  };
  try {
    await handle.ready;
    await edit(() => writeFileSync(target, `${nodeText(0, 2)}install:\n  device: /dev/vdb\n`));
    assert.match(config(2), /\/dev\/vdb/, "the link's target edited");
    // The target saved by a rename (another file from then on), then edited in place.
    await edit(() => {
      writeFileSync(`${target}.tmp`, `${nodeText(0, 2)}install:\n  device: /dev/vdc\n`);
      renameSync(`${target}.tmp`, target);
    });
    assert.match(config(2), /\/dev\/vdc/, "the link's target replaced");
    await edit(() => writeFileSync(target, `${nodeText(0, 2)}install:\n  device: /dev/vdd\n`));
    assert.match(config(2), /\/dev\/vdd/, 'the replaced target edited');
    await edit(() => {
      mkdirSync(join(nodes, 'rack-a/row-1'), { recursive: true });
      writeFileSync(join(nodes, 'rack-a/row-1/n00003.yaml'), nodeText(0, 3));
    });
    assert.ok(has(3), 'a node file in a new subdirectory');
    const moved = await edit(() =>
      writeFileSync(join(nodes, 'rack-a/row-1/n00003.yaml'), `${nodeText(0, 3)}install:\n  device: /dev/vdc\n`),
    );
    assert.match(config(3), /\/dev\/vdc/, 'an edit in the new subdirectory');
    assert.equal(moved.changed, ['sites/s000/nodes/rack-a/row-1/n00003.yaml'], 'reported as chokidar does: relative to cwd');
    await edit(() => renameSync(join(nodes, 'rack-a'), join(root, 'rack-a')));
    assert.not.ok(has(3), 'a directory moved out');
    await edit(() => renameSync(join(root, 'rack-a'), join(nodes, 'rack-b')));
    assert.match(config(3), /\/dev\/vdc/, 'a directory moved in');
    await edit(() => writeFileSync(join(nodes, 'rack-b/row-1/n00003.yaml'), `${nodeText(0, 3)}install:\n  device: /dev/vdd\n`));
    assert.match(config(3), /\/dev\/vdd/, 'an edit in the directory moved in');
    // nodes/ replaced by another directory: every file in it is new.
    await edit(() => {
      cpSync(nodes, join(root, 'nodes-2'), { recursive: true, verbatimSymlinks: true });
      writeFileSync(join(root, 'nodes-2/n00001.yaml'), `${nodeText(0, 1)}install:\n  device: /dev/vde\n`);
      rmSync(nodes, { recursive: true });
      renameSync(join(root, 'nodes-2'), nodes);
    });
    assert.match(config(1), /\/dev\/vde/, 'nodes/ replaced');
    await edit(() => writeFileSync(nodeFile(root, 0, 0), `${nodeText(0, 0)}install:\n  device: /dev/vdf\n`));
    assert.match(config(0), /\/dev\/vdf/, 'an edit in the new nodes/');
    // nodes/ a link to a directory inside the repository (the loader follows it).
    await edit(() => {
      renameSync(nodes, join(root, 'nodes-real'));
      symlinkSync('../../nodes-real', nodes);
    });
    await edit(() => writeFileSync(join(root, 'nodes-real/n00000.yaml'), `${nodeText(0, 0)}install:\n  device: /dev/vdg\n`));
    assert.match(config(0), /\/dev\/vdg/, 'an edit through a linked nodes/');
    // Files that are not YAML, or hidden, do not build.
    const quiet = events.length;
    writeFileSync(join(nodes, 'notes.txt'), 'x');
    writeFileSync(join(nodes, '.n00000.yaml.swp'), 'x');
    await new Promise((r) => setTimeout(r, 300));
    assert.is(events.length, quiet, 'no build for a file the loader does not read');
  } finally {
    await handle.close();
  }
  await sameAsFresh(root, sites, out);
});

test('without a cwd, a node file is reported under its site directory as given', async () => {
  const root = tempDir('watch-trees-abs');
  const sites = generateRepo(root, 1, 2);
  await pastRacy();
  const { handle, events, next } = session({ sites, outDir: join(root, 'out'), debounceMs: 30 });
  try {
    await handle.ready;
    const wait = next();
    writeFileSync(nodeFile(root, 0, 1), `${nodeText(0, 1)}install:\n  device: /dev/vdb\n`);
    await wait;
    assert.is(events.length, 2);
    assert.equal(events[1]!.changed, [nodeFile(root, 0, 1)]);
    assert.match(readFileSync(join(root, 'out/s000/harvester/n00001.yaml'), 'utf8'), /\/dev\/vdb/);
  } finally {
    await handle.close();
  }
});

test('watch --deploy rebuilds when only a secret file changes: the deploy tree gets the new token', async () => {
  // The token is `{ file: secrets/token }`: a file next to site.yaml that is not YAML.
  const site = exampleWithSecrets('location_x');
  const out = join(tempDir('watch-deploy'), 'deploy');
  const token = () => (parse(readFileSync(join(out, 'location_x/harvester/hv-1.yaml'), 'utf8')) as { token: string }).token;
  const { handle, events, next } = session({ sites: [site], outDir: out, secrets: 'filled', debounceMs: 30 });
  try {
    await handle.ready;
    assert.ok(events[0]!.result.ok, JSON.stringify(events[0]!.result.diagnostics));
    assert.is(token(), EXAMPLE_SECRETS.location_x!.token);
    const wait = next();
    writeFileSync(join(site, 'secrets/token'), 'K10-rotated-token.2027\n');
    await wait;
    assert.is(events.length, 2, 'the secret file alone triggered a build');
    assert.ok(events[1]!.result.ok, JSON.stringify(events[1]!.result.diagnostics));
    assert.ok(
      events[1]!.changed.some((p) => p.endsWith('secrets/token')),
      JSON.stringify(events[1]!.changed),
    );
    assert.is(token(), 'K10-rotated-token.2027');
  } finally {
    await handle.close();
  }
});

test('watch rebuilds when a user-data file or an iPXE binary outside the site directory changes, and after a failed build', async () => {
  // A repository (so that a user-data file beside the sites is inside its boundary), and a
  // system-style iPXE directory elsewhere, named by its absolute path.
  const root = tempDir('watch-inputs');
  mkdirSync(join(root, '.git'));
  const bin = join(tempDir('watch-ipxe'), 'ipxe');
  mkdirSync(bin);
  const efi = Buffer.concat([Buffer.from('MZ'), Buffer.from([1, 2, 3])]);
  writeFileSync(join(bin, 'snponly.efi'), efi);
  writeFileSync(join(bin, 'undionly.kpxe'), Buffer.from([0xeb, 0x3c, 0x90, 0]));
  const userData = join(root, 'user-data/rancher.cfg');
  mkdirSync(join(root, 'user-data'));
  writeFileSync(userData, '#cloud-config\nhostname: rancher\n');
  const doc = exampleSite() as Record<string, unknown>;
  Object.assign(doc.boot as object, { http_boot: true, ipxe_binaries: bin });
  doc.os_profiles = { rocky: { kernel: 'http://192.168.122.1/os/rocky/vmlinuz', initrds: ['http://192.168.122.1/os/rocky/initrd.img'] } };
  (doc.nodes as unknown[]).push({
    hostname: 'rancher',
    mac: '52:54:00:aa:cc:01',
    ip: '192.168.122.31',
    os: 'rocky',
    cloud_init: { user_data_file: '../../user-data/rancher.cfg' },
  });
  const site = join(root, 'sites/x');
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, 'site.yaml'), stringify(doc));
  const out = join(root, 'out');
  const tree = join(out, 'location_x');
  const served = () => readFileSync(join(tree, 'cloud-init/52-54-00-aa-cc-01/user-data'), 'utf8');
  // The secrets come from the environment here: such a site is never up to date, and its
  // inputs are watched all the same.
  const { handle, events, next } = session({ sites: [site], outDir: out, cwd: root, debounceMs: 30 });
  try {
    await handle.ready;
    assert.ok(events[0]!.result.ok, JSON.stringify(events[0]!.result.diagnostics));
    assert.is(served(), '#cloud-config\nhostname: rancher\n');
    let wait = next();
    writeFileSync(userData, '#cloud-config\nhostname: rancher-2\n');
    await wait;
    assert.is(events.length, 2, 'the user-data file alone triggered a build');
    assert.is(served(), '#cloud-config\nhostname: rancher-2\n');
    wait = next();
    const efi2 = Buffer.concat([efi, Buffer.from('v2')]);
    writeFileSync(join(bin, 'snponly.efi'), efi2);
    await wait;
    assert.is(events.length, 3, 'the binary alone triggered a build');
    // The committed tree lists the binary by its digest (the deploy tree holds it).
    const listed = (JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as { files: { path: string; sha256: string }[] }).files;
    assert.is(
      listed.find((f) => f.path === 'snponly.efi')?.sha256,
      createHash('sha256').update(efi2).digest('hex'),
      'the new binary is listed',
    );
    // A broken user-data file fails the build (the output is kept); mending it builds again.
    wait = next();
    writeFileSync(userData, 'hostname: rancher-3\n');
    await wait;
    assert.is(events.length, 4);
    assert.ok(
      events[3]!.result.diagnostics.some((d) => d.code === 'CLOUD_INIT_INVALID'),
      JSON.stringify(events[3]!.result.diagnostics),
    );
    assert.is(served(), '#cloud-config\nhostname: rancher-2\n', 'previous output kept');
    wait = next();
    writeFileSync(userData, '#cloud-config\nhostname: rancher-3\n');
    await wait;
    assert.is(events.length, 5);
    assert.ok(events[4]!.result.ok, JSON.stringify(events[4]!.result.diagnostics));
    assert.is(served(), '#cloud-config\nhostname: rancher-3\n');
  } finally {
    await handle.close();
  }
});

test.run();
