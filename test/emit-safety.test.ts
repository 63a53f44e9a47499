// Emit's promises beyond the happy path: a killed build is finished or undone by the next one
// (journal), nothing is touched through a symbolic link or outside --out, an unsafe --out is
// refused, and two builds on one output never interleave (lock).
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, recoverSite } from '../src/index.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');
const siteX = join(repo, 'sites/location_x');

async function built(): Promise<{ out: string; dir: string; before: Map<string, string> }> {
  const out = tempDir('emit');
  const r = await build({ sites: [siteX], outDir: out });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const dir = join(out, 'location_x');
  return { out, dir, before: readTree(dir) };
}

test('a committed journal is completed by the next run: renames, removals, then the journal and temps are gone', async () => {
  const { out, dir, before } = await built();
  writeFileSync(join(dir, 'ipxe/.52-54-00-aa-bb-01.ipxe.harvgen-tmp'), '#!ipxe\necho new\n', { mode: 0o644 });
  writeFileSync(join(dir, '.manifest.json.harvgen-tmp'), '{"generator":"harvgen","files":[]}\n');
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
  assert.not.ok(existsSync(join(dir, 'harvester/hv-3.yaml')));
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

test('a journal read from disk is untrusted: paths outside the tree are ignored and nothing outside is touched', async () => {
  const { dir, before } = await built();
  const victim = join(tempDir('victim'), 'keep.txt');
  writeFileSync(victim, 'mine');
  writeFileSync(
    join(dir, '.harvgen-journal.json'),
    JSON.stringify({ version: 1, renames: [], chmods: [], removals: [`../../../../..${victim}`] }),
  );
  const r = await recoverSite(dir);
  assert.is(r.unreadableJournal, true);
  assert.ok(existsSync(victim));
  assert.equal(readTree(dir), before);
});

test('a directory link inside the output refuses the write and the removal; the file outside survives', async () => {
  const site = tempDir('emit-site');
  cpSync(siteX, site, { recursive: true });
  const out = tempDir('emit');
  assert.ok((await build({ sites: [site], outDir: out })).ok);
  const dir = join(out, 'location_x');
  // Replace harvester/ by a link to a directory that holds a file of the same name.
  const elsewhere = tempDir('elsewhere');
  writeFileSync(join(elsewhere, 'hv-3.yaml'), "not harvgen's");
  renameSync(join(dir, 'harvester'), join(out, 'moved'));
  symlinkSync(elsewhere, join(dir, 'harvester'));
  const yaml = join(site, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/  - hostname: hv-3\n    mac: 525400aabb03\n    ip: 192.168.122.13\n/, ''));
  const r = await build({ sites: [site], outDir: out });
  assert.not.ok(r.ok);
  assert.ok(
    r.diagnostics.some((d) => d.code === 'EMIT_SYMLINK_REFUSED'),
    JSON.stringify(r.diagnostics),
  );
  assert.is(readFileSync(join(elsewhere, 'hv-3.yaml'), 'utf8'), "not harvgen's");
  // The site directory itself as a link is refused too.
  const out2 = tempDir('emit');
  symlinkSync(tempDir('elsewhere'), join(out2, 'location_x'));
  const r2 = await build({ sites: [siteX], outDir: out2 });
  assert.ok(r2.diagnostics.some((d) => d.code === 'EMIT_SYMLINK_REFUSED'));
});

test('an unsafe --out is EMIT_OUT_DIR_UNSAFE and nothing is written: /, home, system dirs, the site dir, inside it, above it', async () => {
  const root = tempDir('unsafe');
  const site = join(root, 'sites/location_x');
  mkdirSync(dirname(site), { recursive: true });
  cpSync(siteX, site, { recursive: true });
  for (const out of ['/', homedir(), '/etc', '/usr', site, join(site, 'out'), join(root, 'sites'), root]) {
    const r = await build({ sites: [site], outDir: out });
    assert.not.ok(r.ok, out);
    assert.equal(
      r.diagnostics.map((d) => d.code),
      ['EMIT_OUT_DIR_UNSAFE'],
      `${out}: ${JSON.stringify(r.diagnostics)}`,
    );
    assert.is(r.sites.length, 0);
  }
  assert.not.ok(existsSync(join(site, 'location_x')) || existsSync(join(site, 'out')), 'nothing written into the inventory');
  const dry = await build({ sites: [site], outDir: site, dryRun: true });
  assert.ok(
    dry.diagnostics.some((d) => d.code === 'EMIT_OUT_DIR_UNSAFE'),
    'also for --dry-run',
  );
  assert.ok((await build({ sites: [site], outDir: join(root, 'out') })).ok, 'a sibling out/ is fine');
});

test('a lock held by a live process is EMIT_LOCKED and nothing is written; a dead holder is taken over', async () => {
  const { out, dir, before } = await built();
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    writeFileSync(
      join(dir, '.harvgen.lock'),
      JSON.stringify({ pid: sleeper.pid, hostname: (await import('node:os')).hostname(), started: 'then' }),
    );
    writeFileSync(join(dir, 'boot.ipxe'), 'tampered');
    const r = await build({ sites: [siteX], outDir: out });
    assert.not.ok(r.ok);
    assert.ok(
      r.diagnostics.some((d) => d.code === 'EMIT_LOCKED' && d.message.includes(`pid ${sleeper.pid}`)),
      JSON.stringify(r.diagnostics),
    );
    assert.is(readFileSync(join(dir, 'boot.ipxe'), 'utf8'), 'tampered', 'nothing written under a live lock');
  } finally {
    sleeper.kill('SIGKILL');
  }
  await new Promise((r) => sleeper.once('exit', r));
  // Its process is gone now: the lock is stale, the build takes it over and repairs the file.
  const r2 = await build({ sites: [siteX], outDir: out });
  assert.ok(r2.ok, JSON.stringify(r2.diagnostics));
  assert.equal(readTree(dir), before);
  assert.not.ok(existsSync(join(dir, '.harvgen.lock')));
});

test('--check on an interrupted tree is EMIT_INTERRUPTED and repairs nothing; --dry-run warns', async () => {
  const { out, dir } = await built();
  writeFileSync(join(dir, '.boot.ipxe.harvgen-tmp'), 'half');
  const r = await build({ sites: [siteX], outDir: out, check: true });
  assert.not.ok(r.ok);
  assert.ok(r.diagnostics.some((d) => d.code === 'EMIT_INTERRUPTED' && d.severity === 'error'));
  assert.ok(existsSync(join(dir, '.boot.ipxe.harvgen-tmp')), '--check writes nothing');
  const dry = await build({ sites: [siteX], outDir: out, dryRun: true });
  assert.ok(dry.ok);
  assert.ok(dry.diagnostics.some((d) => d.code === 'EMIT_INTERRUPTED' && d.severity === 'warning'));
});

test.run();
