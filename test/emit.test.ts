// Emit's promises beyond the happy path: a killed build is finished or undone by the next one
// (journal), nothing is touched through a symbolic link or outside --out, paths read from the
// output are untrusted, an unsafe --out is refused, and two builds on one output never
// interleave (lock). States of a killed build are crafted directly; test/cli-crash.test.ts kills real ones.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, recoverSite } from '../src/index.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');
const siteX = join(repo, 'sites/location_x');
const HV3 = /  - hostname: hv-3\n    mac: 525400aabb03\n    ip: 192.168.122.13\n/;

async function built(site = siteX): Promise<{ out: string; dir: string; before: Map<string, string> }> {
  const out = tempDir('emit');
  const r = await build({ sites: [site], outDir: out });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const dir = join(out, 'location_x');
  return { out, dir, before: readTree(dir) };
}

/** A copy of location_x, optionally without node hv-3. */
function siteCopy(withoutHv3 = false): string {
  const site = tempDir('emit-site');
  cpSync(siteX, site, { recursive: true });
  const yaml = join(site, 'site.yaml');
  if (withoutHv3) writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(HV3, ''));
  return site;
}

const codes = (r: { diagnostics: readonly { code: string }[] }) => r.diagnostics.map((d) => d.code);

test('a committed journal is completed by the next run: renames, chmods, removals, then the journal and temps are gone', async () => {
  const { out, dir, before } = await built();
  // The interrupted build: one script changed, harvester/hv-3.yaml no longer built (its new
  // manifest.json, still in its temp, does not list it), boot.ipxe made executable.
  const manifest = JSON.parse(before.get('manifest.json')!) as { files: { path: string }[] };
  manifest.files = manifest.files.filter((f) => f.path !== 'harvester/hv-3.yaml');
  const newManifest = JSON.stringify(manifest, null, 2) + '\n';
  writeFileSync(join(dir, 'ipxe/.52-54-00-aa-bb-01.ipxe.harvgen-tmp'), '#!ipxe\necho new\n', { mode: 0o644 });
  writeFileSync(join(dir, '.manifest.json.harvgen-tmp'), newManifest);
  writeFileSync(
    join(dir, '.harvgen-journal.json'),
    JSON.stringify({
      version: 1,
      renames: [
        { path: 'ipxe/52-54-00-aa-bb-01.ipxe', mode: 0o644 },
        { path: 'ipxe/52-54-00-aa-bb-02.ipxe', mode: 0o644 }, // renamed before the crash: no temp left
        { path: 'manifest.json', mode: 0o644 },
      ],
      chmods: [{ path: 'boot.ipxe', mode: 0o755 }],
      removals: ['harvester/hv-3.yaml'],
    }),
  );
  const r = await recoverSite(dir);
  assert.equal(r, { recovered: 'rolled-forward', completed: 5, tempFilesRemoved: 0 });
  assert.is(readFileSync(join(dir, 'ipxe/52-54-00-aa-bb-01.ipxe'), 'utf8'), '#!ipxe\necho new\n');
  assert.is(readFileSync(join(dir, 'ipxe/52-54-00-aa-bb-02.ipxe'), 'utf8'), before.get('ipxe/52-54-00-aa-bb-02.ipxe'));
  assert.is(statSync(join(dir, 'boot.ipxe')).mode & 0o777, 0o755);
  assert.not.ok(existsSync(join(dir, 'harvester/hv-3.yaml')));
  assert.is(readFileSync(join(dir, 'manifest.json'), 'utf8'), newManifest);
  assert.not.ok(existsSync(join(dir, '.harvgen-journal.json')));
  assert.not.ok(existsSync(join(dir, '.harvgen.lock')));
  // The next build reports the repair and rewrites the tree it wants.
  writeFileSync(join(dir, 'ipxe/.x.harvgen-tmp'), 'stray');
  const again = await build({ sites: [siteX], outDir: out, strict: true });
  assert.ok(again.ok, 'a repaired tree does not fail a --strict build');
  assert.ok(again.diagnostics.some((d) => d.code === 'EMIT_RECOVERED' && /removed 1 temporary file/.test(d.message)));
  assert.equal(readTree(dir), before);
});

test('temps without a journal (killed before the commit point) are removed and the old tree stays', async () => {
  const { dir, before } = await built();
  writeFileSync(join(dir, '.boot.ipxe.harvgen-tmp'), 'half-written');
  writeFileSync(join(dir, 'harvester/.hv-1.yaml.harvgen-tmp'), 'half');
  writeFileSync(join(dir, '.harvgen-journal.json.harvgen-tmp'), '{"version":1,');
  const r = await recoverSite(dir);
  assert.equal(r, { recovered: 'rolled-back', completed: 0, tempFilesRemoved: 3 });
  assert.equal(readTree(dir), before);
});

test('killed among the removals: the journal finishes them and manifest.json; once manifest.json is replaced they are done', async () => {
  const { dir: dirA, before: treeA } = await built();
  const siteB = siteCopy(true);
  const { before: treeB } = await built(siteB);
  const gone = [...treeA.keys()].filter((p) => !treeB.has(p));
  assert.ok(gone.includes('harvester/hv-3.yaml') && gone.length > 1, gone.join(' '));
  const changed = [...treeB.keys()].filter((p) => treeA.get(p) !== treeB.get(p)).map((path) => ({ path, mode: 0o644 }));
  assert.ok(changed.some((c) => c.path === 'manifest.json'));
  // Every other rename done, the first removal done; manifest.json (renamed last) still A's, B's in its temp.
  for (const [p, text] of treeB) if (p !== 'manifest.json') writeFileSync(join(dirA, p), text);
  writeFileSync(join(dirA, '.manifest.json.harvgen-tmp'), treeB.get('manifest.json')!);
  rmSync(join(dirA, gone[0]!));
  const control = join(tempDir('emit'), 'location_x');
  cpSync(dirA, control, { recursive: true });
  const journal = JSON.stringify({ version: 1, renames: changed, chmods: [], removals: gone });
  writeFileSync(join(dirA, '.harvgen-journal.json'), journal);
  const r = await recoverSite(dirA);
  assert.is(r.recovered, 'rolled-forward');
  assert.is(r.discarded, undefined);
  assert.equal(readTree(dirA), treeB);
  // Killed after manifest.json was replaced: the removals came before it, the journal only has to go.
  writeFileSync(join(dirA, '.harvgen-journal.json'), journal);
  const again = await recoverSite(dirA);
  assert.is(again.recovered, 'rolled-forward');
  assert.equal(readTree(dirA), treeB);
  // Without the journal (discarded, or never committed) the next build still removes them:
  // until manifest.json is replaced it lists every file the old build wrote.
  await recoverSite(control);
  assert.ok(existsSync(join(control, gone[1]!)));
  const b = await build({ sites: [siteB], outDir: dirname(control) });
  assert.ok(b.ok, JSON.stringify(b.diagnostics));
  assert.equal(readTree(control), treeB);
});

test('a journal read from disk is untrusted: one entry that is not plain discards it whole, unapplied; nothing outside is touched', async () => {
  const { out, dir, before } = await built();
  const victim = join(tempDir('victim'), 'keep.txt');
  writeFileSync(victim, 'mine');
  writeFileSync(
    join(dir, '.harvgen-journal.json'),
    JSON.stringify({
      version: 1,
      renames: [{ path: victim, mode: 0o644 }],
      chmods: [{ path: '../../x', mode: 0o755 }],
      removals: [`../../../../..${victim}`, 'harvester/hv-3.yaml'],
    }),
  );
  const r = await recoverSite(dir);
  assert.is(r.recovered, undefined);
  assert.match(r.discarded ?? '', /is not a plain relative path/);
  assert.ok(existsSync(victim));
  assert.ok(existsSync(join(dir, 'harvester/hv-3.yaml')), 'not even the plain entry was applied');
  assert.not.ok(existsSync(join(dir, '.harvgen-journal.json')), 'discarded: it never comes back');
  // Through build(): EMIT_JOURNAL_DISCARDED. A journal that is not one at all is dropped with its temps.
  writeFileSync(join(dir, '.harvgen-journal.json'), '{"version":1,"renames":"all"}');
  writeFileSync(join(dir, '.boot.ipxe.harvgen-tmp'), 'half');
  const b = await build({ sites: [siteX], outDir: out });
  assert.ok(b.ok);
  assert.ok(b.diagnostics.some((d) => d.code === 'EMIT_JOURNAL_DISCARDED' && d.message.includes('not a harvgen journal')));
  assert.equal(readTree(dir), before);
  assert.ok(existsSync(victim));
});

test('paths in the previous manifest.json are untrusted: one outside the tree is not removed, and is reported', async () => {
  const { out, dir, before } = await built();
  const victim = join(tempDir('victim'), 'keep.txt');
  writeFileSync(victim, 'mine');
  const manifest = JSON.parse(before.get('manifest.json')!) as { files: { path: string }[] };
  manifest.files.push({ path: `../../../../..${victim}` }, { path: victim });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const r = await build({ sites: [siteX], outDir: out });
  assert.ok(r.ok);
  assert.equal(codes(r), ['EMIT_UNTRUSTED_PATH']);
  assert.ok(existsSync(victim));
  assert.equal(readTree(dir), before);
});

test('a link at a target or as a directory refuses the write: EMIT_SYMLINK_REFUSED and the file outside is untouched', async () => {
  const { out, dir } = await built();
  const outside = join(tempDir('elsewhere'), 'boot.ipxe');
  writeFileSync(outside, "not harvgen's");
  rmSync(join(dir, 'boot.ipxe'));
  symlinkSync(outside, join(dir, 'boot.ipxe'));
  const r = await build({ sites: [siteX], outDir: out });
  assert.not.ok(r.ok);
  assert.ok(
    r.diagnostics.some((d) => d.code === 'EMIT_SYMLINK_REFUSED' && d.message.includes('boot.ipxe') && /remove the link/i.test(d.hint!)),
    JSON.stringify(r.diagnostics),
  );
  assert.is(readFileSync(outside, 'utf8'), "not harvgen's");
  // A directory of the tree replaced by a link to a directory with a file of the same name.
  rmSync(join(dir, 'boot.ipxe'));
  const elsewhere = tempDir('elsewhere');
  writeFileSync(join(elsewhere, 'hv-1.yaml'), "not harvgen's");
  renameSync(join(dir, 'harvester'), join(out, 'moved'));
  symlinkSync(elsewhere, join(dir, 'harvester'));
  const r2 = await build({ sites: [siteX], outDir: out });
  assert.ok(r2.diagnostics.some((d) => d.code === 'EMIT_SYMLINK_REFUSED' && d.message.includes('harvester')));
  assert.is(readFileSync(join(elsewhere, 'hv-1.yaml'), 'utf8'), "not harvgen's");
  // The site directory itself as a link is refused too.
  const out2 = tempDir('emit');
  const target = tempDir('elsewhere');
  symlinkSync(target, join(out2, 'location_x'));
  const r3 = await build({ sites: [siteX], outDir: out2 });
  assert.ok(r3.diagnostics.some((d) => d.code === 'EMIT_SYMLINK_REFUSED'));
  assert.is(readTree(target).size, 0);
});

test('a link in the path of a removal refuses it from the manifest and discards a journal naming it; the file outside survives', async () => {
  const { out, dir, before } = await built();
  const elsewhere = tempDir('elsewhere');
  writeFileSync(join(elsewhere, 'gone.txt'), "not harvgen's");
  symlinkSync(elsewhere, join(dir, 'old'));
  // The previous build (as its manifest says) wrote old/gone.txt, which this build no longer produces.
  const manifest = JSON.parse(before.get('manifest.json')!) as { files: { path: string }[] };
  manifest.files.push({ path: 'old/gone.txt' });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const r = await build({ sites: [siteX], outDir: out });
  assert.not.ok(r.ok);
  assert.ok(
    r.diagnostics.some((d) => d.code === 'EMIT_SYMLINK_REFUSED' && d.message.includes(`${join('location_x', 'old')}:`)),
    JSON.stringify(r.diagnostics),
  );
  assert.ok(existsSync(join(elsewhere, 'gone.txt')));
  assert.is(readFileSync(join(dir, 'manifest.json'), 'utf8'), JSON.stringify(manifest), 'nothing written');
  // The same removal from a committed journal: it does not verify (a link on its path), so it
  // is discarded unapplied, once (it would otherwise fail every build until the link is gone).
  writeFileSync(join(dir, '.harvgen-journal.json'), JSON.stringify({ version: 1, renames: [], chmods: [], removals: ['old/gone.txt'] }));
  const recovered = await recoverSite(dir);
  assert.match(recovered.discarded ?? '', /whose directory old is a symbolic link/);
  assert.ok(existsSync(join(elsewhere, 'gone.txt')));
  assert.not.ok(existsSync(join(dir, '.harvgen-journal.json')));
});

test('an unsafe --out is EMIT_OUT_DIR_UNSAFE, without a position, and nothing is written', async () => {
  const root = tempDir('unsafe');
  const site = join(root, 'sites/location_x');
  mkdirSync(dirname(site), { recursive: true });
  cpSync(siteX, site, { recursive: true });
  const linkToSite = join(tempDir('link'), 'out');
  symlinkSync(site, linkToSite);
  const unsafe = [
    '/',
    homedir(),
    '/root',
    '/home',
    '/home/someone',
    '/etc',
    '/usr',
    '/var',
    '/tmp',
    site,
    join(site, 'out'),
    join(root, 'sites'),
    root,
    linkToSite,
    join(linkToSite, 'nested'),
  ];
  for (const out of unsafe) {
    const r = await build({ sites: [site], outDir: out });
    assert.not.ok(r.ok, out);
    assert.equal(codes(r), ['EMIT_OUT_DIR_UNSAFE'], `${out}: ${JSON.stringify(r.diagnostics)}`);
    assert.is(r.diagnostics[0]!.file, undefined);
    assert.is(r.sites.length, 0);
  }
  assert.not.ok(existsSync(join(site, 'location_x')) || existsSync(join(site, 'out')), 'nothing written into the inventory');
  for (const mode of [{ dryRun: true }, { check: true }]) {
    const r = await build({ sites: [site], outDir: site, ...mode });
    assert.equal(codes(r), ['EMIT_OUT_DIR_UNSAFE'], `also for ${JSON.stringify(mode)}`);
  }
  assert.ok((await build({ sites: [site], outDir: join(root, 'out') })).ok, 'a sibling out/ is fine');
  const linkedOut = join(tempDir('link'), 'out');
  symlinkSync(tempDir('real-out'), linkedOut);
  assert.ok((await build({ sites: [site], outDir: linkedOut })).ok, 'the output root may itself be a link');
});

test('a lock held by a live process that can be a harvgen is EMIT_LOCKED and nothing is written; a dead holder is taken over', async () => {
  const { out, dir, before } = await built();
  // A Node.js process (a lock naming a process that is no harvgen, such as `sleep`, is stale: test/state-forgery.test.ts).
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    writeFileSync(join(dir, '.harvgen.lock'), JSON.stringify({ pid: sleeper.pid, hostname: hostname(), started: 'then' }));
    writeFileSync(join(dir, 'boot.ipxe'), 'tampered');
    const r = await build({ sites: [siteX], outDir: out });
    assert.not.ok(r.ok);
    assert.ok(
      r.diagnostics.some((d) => d.code === 'EMIT_LOCKED' && d.message.includes(`pid ${sleeper.pid}`)),
      JSON.stringify(r.diagnostics),
    );
    assert.is(readFileSync(join(dir, 'boot.ipxe'), 'utf8'), 'tampered', 'nothing written under a live lock');
    assert.ok(existsSync(join(dir, '.harvgen.lock')), 'the lock of the other build stays');
  } finally {
    sleeper.kill('SIGKILL');
  }
  await new Promise((r) => sleeper.once('exit', r));
  // Its process is gone now: the lock is stale, the build takes it over and repairs the file.
  const r2 = await build({ sites: [siteX], outDir: out });
  assert.ok(r2.ok, JSON.stringify(r2.diagnostics));
  assert.equal(readTree(dir), before);
  assert.not.ok(existsSync(join(dir, '.harvgen.lock')));
  // A lock naming this very pid is from an earlier process that had it (this one holds no lock): stale.
  writeFileSync(join(dir, '.harvgen.lock'), JSON.stringify({ pid: process.pid, hostname: hostname(), started: 'then' }));
  assert.ok((await build({ sites: [siteX], outDir: out })).ok);
});

test('an unreadable lock is a build that is starting (EMIT_LOCKED) until it is 10 minutes old, then it is taken over', async () => {
  const { out, dir } = await built();
  const lock = join(dir, '.harvgen.lock');
  writeFileSync(lock, '');
  const r = await build({ sites: [siteX], outDir: out });
  assert.equal(codes(r), ['EMIT_LOCKED']);
  const old = new Date(Date.now() - 11 * 60_000);
  utimesSync(lock, old, old);
  assert.ok((await build({ sites: [siteX], outDir: out })).ok);
  assert.not.ok(existsSync(lock));
});

test('--check on an interrupted tree is EMIT_INTERRUPTED and writes nothing; --dry-run warns', async () => {
  const { out, dir } = await built();
  writeFileSync(join(dir, '.boot.ipxe.harvgen-tmp'), 'half');
  writeFileSync(
    join(dir, '.harvgen-journal.json'),
    JSON.stringify({ version: 1, renames: [], chmods: [], removals: ['harvester/hv-3.yaml'] }),
  );
  const tree = readTree(dir);
  const r = await build({ sites: [siteX], outDir: out, check: true });
  assert.not.ok(r.ok);
  assert.ok(r.diagnostics.some((d) => d.code === 'EMIT_INTERRUPTED' && d.severity === 'error'));
  assert.equal(readTree(dir), tree, '--check writes nothing and does not recover');
  const dry = await build({ sites: [siteX], outDir: out, dryRun: true });
  assert.ok(dry.ok);
  assert.ok(dry.diagnostics.some((d) => d.code === 'EMIT_INTERRUPTED' && d.severity === 'warning'));
  assert.equal(readTree(dir), tree, '--dry-run neither');
  assert.not.ok(existsSync(join(dir, '.harvgen.lock')));
});

test('through a recovery, unchanged files keep their mtime and files harvgen never wrote are kept', async () => {
  const { out, dir, before } = await built();
  const file = join(dir, 'boot.ipxe');
  utimesSync(file, new Date(2000, 0, 1), new Date(2000, 0, 1));
  writeFileSync(join(dir, 'README.operator'), 'notes\n');
  mkdirSync(join(dir, 'extra'));
  writeFileSync(join(dir, 'extra/mine.txt'), 'mine\n');
  writeFileSync(join(dir, '.unknown.ipxe.harvgen-tmp'), 'half');
  const r = await build({ sites: [siteX], outDir: out });
  assert.ok(r.ok);
  assert.equal(codes(r), ['EMIT_RECOVERED']);
  assert.equal(r.sites[0]!.written, []);
  assert.is(statSync(file).mtime.getFullYear(), 2000);
  assert.equal(readTree(dir), new Map([...before, ['README.operator', 'notes\n'], ['extra/mine.txt', 'mine\n']]));
});

test('a signature left without its manifest.json is removed by the next build of an unsigned site', async () => {
  const out = tempDir('emit-sig');
  const dir = join(out, 'location_x');
  mkdirSync(dir);
  writeFileSync(join(dir, 'manifest.json.sig'), 'stale\n');
  const r = await build({ sites: [siteX], outDir: out });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.equal(r.sites[0]!.removed, ['manifest.json.sig']);
  assert.not.ok(existsSync(join(dir, 'manifest.json.sig')));
});

test('a file edited by hand after the build is repaired, even at the same size and with its old mtime put back', async () => {
  const { out, dir, before } = await built();
  // Unchanged files are recognised by the manifest's SHA-256 without being read; only a file
  // whose status changed before manifest.json was written is trusted that way (ctime, which
  // `touch -d` or `cp -p` cannot set back). Wait one clock tick so the edit's ctime is later.
  await new Promise((r) => setTimeout(r, 20));
  const file = join(dir, 'ipxe/52-54-00-aa-bb-01.ipxe');
  const st = statSync(file);
  const old = readFileSync(file, 'utf8');
  const forged = old.replace('automatic=true', 'automatic=fals');
  assert.is.not(forged, old);
  assert.is(forged.length, old.length);
  writeFileSync(file, forged);
  utimesSync(file, st.atime, st.mtime);
  const r = await build({ sites: [siteX], outDir: out });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.equal(r.sites[0]!.written, ['ipxe/52-54-00-aa-bb-01.ipxe']);
  assert.equal(readTree(dir), before);
  // And a rebuild of a whole tree (nothing read back) writes nothing.
  const again = await build({ sites: [siteX], outDir: out });
  assert.equal(again.sites[0]!.written, []);
  assert.is(again.sites[0]!.unchanged.length, before.size);
});

test('a hard link into the output cannot carry a chmod outside: the build replaces the file, a forged journal skips it', async () => {
  const { out, dir } = await built();
  const outside = join(tempDir('hardlink'), 'secret.txt');
  writeFileSync(outside, 'keep me private\n', { mode: 0o600 });
  chmodSync(outside, 0o600);
  // A forged journal asks for a chmod of a file that is a hard link to the outside file.
  rmSync(join(dir, 'boot.ipxe'));
  linkSync(outside, join(dir, 'boot.ipxe'));
  writeFileSync(
    join(dir, '.harvgen-journal.json'),
    JSON.stringify({ version: 1, renames: [], chmods: [{ path: 'boot.ipxe', mode: 0o755 }], removals: [] }),
  );
  await recoverSite(dir);
  assert.is(statSync(outside).mode & 0o777, 0o600, 'the forged chmod was skipped');
  // Same content, other mode, two names: the build writes a new file instead of chmodding in place.
  const want = readFileSync(join(dir, 'ipxe/52-54-00-aa-bb-01.ipxe'), 'utf8');
  writeFileSync(outside, want);
  rmSync(join(dir, 'ipxe/52-54-00-aa-bb-01.ipxe'));
  linkSync(outside, join(dir, 'ipxe/52-54-00-aa-bb-01.ipxe'));
  const r = await build({ sites: [siteX], outDir: out });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.is(statSync(outside).mode & 0o777, 0o600, 'the outside file keeps its mode');
  assert.is(statSync(join(dir, 'ipxe/52-54-00-aa-bb-01.ipxe')).nlink, 1, 'the output file is its own again');
});

test('a FIFO as manifest.json does not hang the build', async () => {
  const { out, dir } = await built();
  rmSync(join(dir, 'manifest.json'));
  const mk = spawnSync('mkfifo', [join(dir, 'manifest.json')]);
  assert.is(mk.status, 0);
  const r = await Promise.race([
    build({ sites: [siteX], outDir: out }),
    new Promise<'hung'>((res) => setTimeout(() => res('hung'), 15_000)),
  ]);
  assert.ok(r !== 'hung', 'the build hung on the FIFO');
});

test('recoverSite on a directory that does not exist does nothing', async () => {
  const dir = join(tempDir('emit'), 'location_x');
  assert.equal(await recoverSite(dir), { completed: 0, tempFilesRemoved: 0 });
  assert.not.ok(existsSync(dir));
});

test.run();
