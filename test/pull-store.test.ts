// The materializer's version store (src/pull/store.ts): stage, commit, switch, state.json,
// rollback, prune, refusal of a tree it did not make, and recovery after a kill -9 at every
// pause point (a child process, test/helpers/pull-store.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.ts';
import {
  RELEASE_BYTES,
  SITE,
  expectedHashes,
  hashTree,
  hexOf,
  pullSeed,
  releaseFixture,
  reloadLog,
  startChild,
  writeTree,
} from './helpers/pull-store.ts';
import { spawn } from 'node:child_process';
import { placeReleases } from '../src/pull/releases.ts';
import { PAUSE_POINTS, PullStoreError, VersionStore, type PullState } from '../src/pull/store.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');

/** A store in a fresh temp dir, with a clock that ticks one second per call. */
function fresh(label: string): { store: VersionStore; stateDir: string; root: string; base: string } {
  const base = tempDir(`pull-${label}`);
  const stateDir = join(base, 'state');
  const root = join(base, 'srv', SITE);
  let tick = 0;
  const store = new VersionStore({ stateDir, root, site: SITE, now: () => new Date(T0 + 1000 * tick++) });
  store.recover();
  return { store, stateDir, root, base };
}

function stateJson(stateDir: string): PullState {
  return JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as PullState;
}

function servedHex(root: string): string {
  return readlinkSync(root).split('/').pop()!;
}

const noHooks = { check: () => undefined, reload: () => undefined };

async function rejects(p: Promise<unknown>, reason: string, re: RegExp): Promise<PullStoreError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, PullStoreError, String(e));
    assert.is((e as PullStoreError).reason, reason, (e as Error).message);
    assert.match((e as Error).message, re);
    return e as PullStoreError;
  }
  throw new Error(`expected a PullStoreError (${reason})`);
}

test('stage + commit: the tree lands in versions/<hex> whole and read-only, incoming/ is empty', () => {
  const { store, stateDir } = fresh('commit');
  const hex = hexOf('a');
  assert.not.ok(store.has(hex));
  const dir = store.stage(hex);
  assert.is(dir, join(stateDir, 'incoming', hex));
  assert.equal(readdirSync(dir), []);
  writeTree(dir, 'a');
  assert.not.ok(store.has(hex), 'a staged tree is not a version');
  assert.is(store.commit(hex), join(stateDir, 'versions', hex));
  assert.ok(store.has(hex));
  assert.equal(readdirSync(join(stateDir, 'incoming')), []);
  const v = join(stateDir, 'versions', hex);
  assert.equal(hashTree(v), expectedHashes('a'));
  const mode = (p: string) => (lstatSync(join(v, p)).mode & 0o777).toString(8);
  assert.is(mode('.'), '555');
  assert.is(mode('ipxe'), '555');
  assert.is(mode('boot.ipxe'), '444');
  assert.is(mode('bmc/hv-1.sh'), '555', 'an executable stays executable');
  // Committing the same digest again keeps the version and drops the new copy.
  writeTree(store.stage(hex), 'a');
  store.commit(hex);
  assert.equal(readdirSync(join(stateDir, 'incoming')), []);
  assert.equal(hashTree(v), expectedHashes('a'));
});

test('commit refuses a symbolic link in the tree; digests are validated', () => {
  const { store } = fresh('commit-link');
  const dir = store.stage(hexOf('a'));
  writeTree(dir, 'a');
  symlinkSync('/etc/passwd', join(dir, 'ipxe/evil.ipxe'));
  assert.throws(() => store.commit(hexOf('a')), /only regular files and directories.*symbolic link/);
  assert.not.ok(store.has(hexOf('a')));
  assert.throws(() => store.stage('../../etc'), /not a SHA-256 digest/);
  assert.throws(() => store.has('ABC'), /not a SHA-256 digest/);
  assert.ok(store.has(`sha256:${hexOf('zz')}`) === false, 'sha256:<hex> is accepted');
});

test('switchTo: check sees the new tree before the switch, reload after; state.json records it', async () => {
  const { store, stateDir, root } = fresh('switch');
  writeTree(store.stage(hexOf('a')), 'a');
  store.commit(hexOf('a'));
  const calls: string[] = [];
  await store.switchTo(
    hexOf('a'),
    { serial: 1764000000, commit: 'c'.repeat(40) },
    {
      check: (dir) => {
        calls.push(`check ${dir} root=${existsSync(root) ? servedHex(root) : 'absent'}`);
      },
      reload: () => {
        calls.push(`reload root=${servedHex(root)} state.reloaded=${stateJson(stateDir).reloaded}`);
      },
    },
  );
  assert.equal(calls, [`check ${join(stateDir, 'versions', hexOf('a'))} root=absent`, `reload root=${hexOf('a')} state.reloaded=false`]);
  assert.ok(lstatSync(root).isSymbolicLink());
  assert.is(readlinkSync(root), join(stateDir, 'versions', hexOf('a')));
  assert.equal(hashTree(root), expectedHashes('a'));
  const text = readFileSync(join(stateDir, 'state.json'), 'utf8');
  const a = `sha256:${hexOf('a')}`;
  assert.is(
    text,
    JSON.stringify(
      {
        format: 1,
        site: SITE,
        digest: a,
        serial: 1764000000,
        commit: 'c'.repeat(40),
        switched_at: '2026-11-24T10:00:00.000Z',
        reloaded: true,
        max_serial: 1764000000,
        history: [{ digest: a, serial: 1764000000, commit: 'c'.repeat(40), switched_at: '2026-11-24T10:00:00.000Z' }],
      },
      null,
      2,
    ) + '\n',
  );
  assert.equal(store.state(), JSON.parse(text));

  // A second version: previous is what was served, history newest first.
  writeTree(store.stage(hexOf('b')), 'b');
  store.commit(hexOf('b'));
  await store.switchTo(hexOf('b'), { serial: 1764000100 }, noHooks);
  const s = stateJson(stateDir);
  assert.is(s.digest, `sha256:${hexOf('b')}`);
  assert.is(s.previous, a);
  assert.is(s.serial, 1764000100);
  assert.is(s.commit, undefined, 'a field of the old version does not stick');
  assert.equal(
    s.history.map((h) => h.digest),
    [`sha256:${hexOf('b')}`, a],
  );
  assert.equal(hashTree(root), expectedHashes('b'));
  assert.equal(readdirSync(join(root, '..')), [SITE], 'no temp link left beside root');
});

test('a failing check changes nothing; a failing reload leaves reloaded: false, and resumeReload reloads', async () => {
  const { store, stateDir, root } = fresh('check');
  await pullSeed(store, 'a', 1);
  writeTree(store.stage(hexOf('b')), 'b');
  store.commit(hexOf('b'));
  const before = readFileSync(join(stateDir, 'state.json'), 'utf8');
  let reloads = 0;
  try {
    await store.switchTo(
      hexOf('b'),
      { serial: 2 },
      {
        check: () => {
          throw new Error('nginx: [emerg] unknown directive "bogus"');
        },
        reload: () => void reloads++,
      },
    );
    assert.unreachable('switchTo should throw');
  } catch (e) {
    assert.match(String(e), /unknown directive "bogus"/, 'the check error is passed on as is');
  }
  assert.is(reloads, 0);
  assert.is(readFileSync(join(stateDir, 'state.json'), 'utf8'), before);
  assert.is(servedHex(root), hexOf('a'));

  try {
    await store.switchTo(
      hexOf('b'),
      { serial: 2 },
      {
        check: () => undefined,
        reload: () => {
          throw new Error('nginx: [error] invalid PID number');
        },
      },
    );
    assert.unreachable('switchTo should throw');
  } catch (e) {
    assert.match(String(e), /invalid PID/);
  }
  assert.is(servedHex(root), hexOf('b'));
  assert.is(stateJson(stateDir).reloaded, false);
  assert.ok(await store.resumeReload({ reload: () => void reloads++ }));
  assert.is(reloads, 1);
  assert.is(stateJson(stateDir).reloaded, true);
  assert.not.ok(await store.resumeReload({ reload: () => void reloads++ }), 'nothing to resume now');
  assert.is(reloads, 1);
});

test('rollback: to the previous version, to a named one, and refusals', async () => {
  const { store, stateDir, root } = fresh('rollback');
  await rejects(store.rollback(undefined, noHooks), 'no-previous', /nothing to roll back to/);
  await pullSeed(store, 'a', 10);
  await rejects(store.rollback(undefined, noHooks), 'no-previous', /no previous version/);
  await pullSeed(store, 'b', 20);
  await pullSeed(store, 'c', 30);
  const r = await store.rollback(undefined, noHooks);
  assert.equal(r, { from: `sha256:${hexOf('c')}`, to: `sha256:${hexOf('b')}` });
  assert.equal(hashTree(root), expectedHashes('b'));
  let s = stateJson(stateDir);
  assert.is(s.digest, `sha256:${hexOf('b')}`);
  assert.is(s.previous, `sha256:${hexOf('c')}`);
  assert.is(s.serial, 20, "the version's own serial from the history");
  // Rolling back again swaps back (previous is what was served).
  await store.rollback(undefined, noHooks);
  assert.is(servedHex(root), hexOf('c'));
  // A named version still kept.
  await store.rollback(`sha256:${hexOf('a')}`, noHooks);
  assert.equal(hashTree(root), expectedHashes('a'));
  s = stateJson(stateDir);
  assert.is(s.serial, 10);
  assert.is(s.previous, `sha256:${hexOf('c')}`);
  assert.equal(
    store.versions().map((v) => v.hex),
    [hexOf('a'), hexOf('c'), hexOf('b')],
    'newest first by switch order',
  );
  await rejects(store.rollback(hexOf('nope'), noHooks), 'version-missing', /no longer kept.*kept: /);
  assert.is(servedHex(root), hexOf('a'));
});

test('prune keeps the newest N and never the served or the previous version', async () => {
  const { store, stateDir } = fresh('prune');
  for (const [i, seed] of ['a', 'b', 'c', 'd', 'e'].entries()) await pullSeed(store, seed, i);
  await store.rollback(hexOf('b'), noHooks); // served b, previous e
  writeTree(store.stage(hexOf('x')), 'x'); // committed, never served
  store.commit(hexOf('x'));
  const order = store.versions();
  assert.equal(
    order.map((v) => v.hex),
    [hexOf('b'), hexOf('e'), hexOf('d'), hexOf('c'), hexOf('a'), hexOf('x')],
  );
  assert.equal(
    order.map((v) => [v.served, v.previous]),
    [
      [true, false],
      [false, true],
      [false, false],
      [false, false],
      [false, false],
      [false, false],
    ],
  );
  assert.equal(store.prune(3).sort(), [hexOf('a'), hexOf('c'), hexOf('x')].sort());
  assert.equal(readdirSync(join(stateDir, 'versions')).sort(), [hexOf('b'), hexOf('d'), hexOf('e')].sort());
  // keep 1 still keeps the previous one.
  assert.equal(store.prune(1), [hexOf('d')]);
  assert.equal(readdirSync(join(stateDir, 'versions')).sort(), [hexOf('b'), hexOf('e')].sort());
  await store.rollback(undefined, noHooks);
  assert.equal(hashTree(store.root), expectedHashes('e'));
  assert.throws(() => store.prune(0), /keep must be a whole number of at least 1/);
});

test('a real directory at root is refused with the way to migrate, and never deleted', async () => {
  const { store, root } = fresh('root-dir');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'boot.ipxe'), 'rsynced before\n');
  writeTree(store.stage(hexOf('a')), 'a');
  store.commit(hexOf('a'));
  let checked = false;
  const e = await rejects(
    store.switchTo(hexOf('a'), {}, { check: () => void (checked = true), reload: () => undefined }),
    'root-not-link',
    /is a directory, not the link harvgen pull manages; harvgen never deletes it\. To migrate: .*mv .*\.before-pull\), then run harvgen pull/,
  );
  assert.not.match(e.message, /\n\s+at /, 'no stack in the message');
  assert.not.ok(checked, 'refused before the check');
  assert.is(readFileSync(join(root, 'boot.ipxe'), 'utf8'), 'rsynced before\n');
  assert.throws(() => store.recover(), /is a directory/, 'recover refuses too');
  assert.is(readFileSync(join(root, 'boot.ipxe'), 'utf8'), 'rsynced before\n');

  const other = fresh('root-link');
  symlinkSync('/srv/somewhere-else', other.root);
  writeTree(other.store.stage(hexOf('a')), 'a');
  other.store.commit(hexOf('a'));
  await rejects(other.store.switchTo(hexOf('a'), {}, noHooks), 'root-foreign-link', /harvgen pull did not make this link/);
  assert.is(readlinkSync(other.root), '/srv/somewhere-else');
});

test('state.json is validated when read; writeVerdict records the verdict atomically', async () => {
  const { store, stateDir } = fresh('state');
  assert.is(store.state(), undefined);
  assert.throws(() => store.writeVerdict({ ok: true, checks: 1, failed: 0, at: '2026-11-24T10:00:03Z' }), /no version is served yet/);
  await pullSeed(store, 'a', 5);
  store.writeVerdict({ ok: false, checks: 120, failed: 2, at: '2026-11-24T10:00:03Z' });
  assert.equal(stateJson(stateDir).verdict, { ok: false, checks: 120, failed: 2, at: '2026-11-24T10:00:03Z' });
  assert.equal(readdirSync(stateDir).sort(), ['incoming', 'state.json', 'versions'], 'no temp file left');
  assert.throws(() => store.writeVerdict({ ok: true, checks: 1, failed: 2, at: '2026-11-24T10:00:03Z' }), /"failed" is more than "checks"/);
  assert.throws(() => store.writeVerdict({ ok: true, checks: 1, failed: 0, at: 'yesterday' }), /ISO 8601/);
  // The verdict is about one version: a switch drops it.
  await pullSeed(store, 'b', 6);
  assert.is(stateJson(stateDir).verdict, undefined);

  const good = readFileSync(join(stateDir, 'state.json'), 'utf8');
  const bad = (text: string, re: RegExp) => {
    writeFileSync(join(stateDir, 'state.json'), text);
    try {
      store.state();
      assert.unreachable(`accepted ${text}`);
    } catch (e) {
      assert.instance(e, PullStoreError);
      assert.is((e as PullStoreError).reason, 'state-invalid');
      assert.match((e as Error).message, re);
      assert.match((e as Error).message, /move it aside and pull again/);
    }
  };
  const s = JSON.parse(good) as Record<string, unknown>;
  bad('{', /is not JSON/);
  bad(JSON.stringify({ ...s, site: 'other' }), /"site" is "other", this store is site "pull_site"/);
  bad(JSON.stringify({ ...s, format: 2 }), /"format" must be 1/);
  bad(JSON.stringify({ ...s, digest: 'sha256:xyz' }), /"digest" must be sha256/);
  bad(JSON.stringify({ ...s, digest: s.previous }), /"digest" is not the head of "history"/);
  bad(JSON.stringify({ ...s, extra: 1 }), /unknown key "extra"/);
  bad(JSON.stringify({ ...s, serial: -1 }), /"serial" must be a non-negative integer/);
  bad(JSON.stringify({ ...s, history: 'x' }), /"history" must be a list/);
  writeFileSync(join(stateDir, 'state.json'), good);
  assert.ok(store.state());
});

test('a reader never finds root missing or torn while the store switches (rename, not remove + create)', async () => {
  const { store, stateDir, root, base } = fresh('race');
  await pullSeed(store, 'a', 1);
  await pullSeed(store, 'b', 2);
  const done = join(base, 'flip.done');
  const valid = new Set([join(stateDir, 'versions', hexOf('a')), join(stateDir, 'versions', hexOf('b'))]);
  const c = startChild(['flip', stateDir, root, SITE, 'a', 'b', '200', done]);
  let reads = 0;
  const bad: string[] = [];
  const deadline = Date.now() + 60_000;
  // Busy-read on this core while the child switches on the other (the event loop is not needed).
  while (!existsSync(done) && Date.now() < deadline && bad.length < 5) {
    for (let i = 0; i < 200; i++) {
      reads++;
      try {
        const t = readlinkSync(root);
        if (!valid.has(t)) bad.push(`root -> ${t}`);
      } catch (e) {
        bad.push(`root unreadable: ${(e as NodeJS.ErrnoException).code}`);
      }
    }
  }
  const exit = await c.exited;
  assert.is(exit.code, 0, exit.stderr);
  assert.equal(bad, [], `a reader saw ${bad.length} bad states in ${reads} reads`);
  assert.ok(reads > 1000, `only ${reads} reads`);
  assert.equal(readdirSync(join(root, '..')), [SITE]);
});

/** What each pause point must leave: the version root serves right after the kill, and after recover(). */
const AFTER_KILL: Record<(typeof PAUSE_POINTS)[number], { served: 'a' | 'b'; hasB: boolean; reloadedAfterRecover: boolean }> = {
  'mid-commit': { served: 'a', hasB: false, reloadedAfterRecover: true },
  'before-commit-rename': { served: 'a', hasB: false, reloadedAfterRecover: true },
  'mid-state-write': { served: 'a', hasB: true, reloadedAfterRecover: true },
  'after-state-before-switch': { served: 'a', hasB: true, reloadedAfterRecover: true },
  'before-rename': { served: 'a', hasB: true, reloadedAfterRecover: true },
  'after-switch-before-reload': { served: 'b', hasB: true, reloadedAfterRecover: false },
};

for (const point of PAUSE_POINTS) {
  test(`kill -9 at ${point}: root serves one whole version, recover() cleans up, the next pull works`, async () => {
    const { stateDir, root } = fresh(`kill-${point}`);
    const mk = () => new VersionStore({ stateDir, root, site: SITE });
    await pullSeed(mk(), 'a', 1);
    const reloadsBefore = reloadLog(stateDir).length;
    const c = startChild(['pull', stateDir, root, SITE, 'b', '2'], point);
    assert.is(await c.paused, point);
    c.child.kill('SIGKILL');
    const exit = await c.exited;
    assert.is(exit.signal, 'SIGKILL');

    const want = AFTER_KILL[point];
    // Before any recovery: root is a link to a complete version, every file there and right.
    assert.ok(lstatSync(root).isSymbolicLink(), 'root is still a link');
    assert.is(realpathSync(root), join(stateDir, 'versions', hexOf(want.served)));
    assert.equal(hashTree(root), expectedHashes(want.served));
    // state.json, which nginx serves, names what is served, before any recovery too.
    assert.is(stateJson(stateDir).digest, `sha256:${hexOf(want.served)}`, 'state.json names the served version');
    const store = mk();
    assert.is(store.has(hexOf('b')), want.hasB);
    if (want.hasB) assert.equal(hashTree(join(stateDir, 'versions', hexOf('b'))), expectedHashes('b'), 'a committed version is whole');
    // Every version present is read-only throughout (committed after fsync, never before).
    for (const v of readdirSync(join(stateDir, 'versions')))
      assert.is((lstatSync(join(stateDir, 'versions', v, 'boot.ipxe')).mode & 0o777).toString(8), '444', `versions/${v} not finished`);

    const report = store.recover();
    assert.equal(readdirSync(join(stateDir, 'incoming')), []);
    assert.equal(readdirSync(join(root, '..')), [SITE], 'no temp link left');
    assert.not.ok(existsSync(join(stateDir, '.state.json.harvgen-tmp')), 'no temp state left');
    if (point === 'mid-commit' || point === 'before-commit-rename' || point === 'before-rename')
      assert.ok(report.removed.length > 0, `recover() removed nothing after ${point}`);
    const s = store.state()!;
    assert.is(s.digest, `sha256:${hexOf(want.served)}`, 'state.json agrees with the link');
    assert.is(s.reloaded, want.reloadedAfterRecover);
    assert.is(s.serial, want.served === 'a' ? 1 : 2);
    if (want.served === 'b') assert.is(s.previous, `sha256:${hexOf('a')}`);
    assert.is(reloadLog(stateDir).length, reloadsBefore, 'the killed run did not reload');

    // The next run reloads if it must, and pulls again.
    await pullSeed(store, 'b', 2);
    const log = reloadLog(stateDir).slice(reloadsBefore);
    assert.equal(log, want.reloadedAfterRecover ? [hexOf('b')] : want.served === 'b' ? [hexOf('b')] : [hexOf('a'), hexOf('b')]);
    assert.equal(hashTree(root), expectedHashes('b'));
    const after = store.state()!;
    assert.is(after.digest, `sha256:${hexOf('b')}`);
    assert.is(after.previous, `sha256:${hexOf('a')}`);
    assert.is(after.reloaded, true);
    await pullSeed(store, 'c', 3);
    assert.equal(hashTree(root), expectedHashes('c'));
    assert.equal(
      store.versions().map((v) => v.hex),
      [hexOf('c'), hexOf('b'), hexOf('a')],
    );
  });
}

test('a kill between the rename and the state write: recover() completes the switch from its intent, serial included', async () => {
  const { store, stateDir, root } = fresh('kill-after-rename');
  await pullSeed(store, 'a', 1);
  writeTree(store.stage(hexOf('b')), 'b');
  store.commit(hexOf('b'));
  const intent = { digest: `sha256:${hexOf('b')}`, serial: 2, switched_at: '2026-11-24T10:00:09Z' };
  writeFileSync(join(stateDir, 'state.json'), JSON.stringify({ ...stateJson(stateDir), switching: intent }));
  symlinkSync(join(stateDir, 'versions', hexOf('b')), `${root}.new`);
  (await import('node:fs')).renameSync(`${root}.new`, root);
  assert.ok(store.recover().reconciled);
  const s = store.state()!;
  assert.is(s.digest, intent.digest);
  assert.is(s.serial, 2);
  assert.is(s.max_serial, 2);
  assert.is(s.previous, `sha256:${hexOf('a')}`);
  assert.is(s.reloaded, false);
  assert.is(s.switching, undefined);
});

test("recover() removes the temp of a state write whose writer is gone, never a live writer's", async () => {
  const { store, stateDir } = fresh('stale-state-temp');
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.on('close', r));
  const stale = `.state.json.harvgen-tmp-${dead.pid}-0a1b2c3d`;
  const live = `.state.json.harvgen-tmp-${process.pid}-0a1b2c3d`;
  writeFileSync(join(stateDir, stale), '{"cut sh');
  writeFileSync(join(stateDir, live), '{"being written');
  assert.equal(store.recover().removed, [join(stateDir, stale)]);
  assert.ok(existsSync(join(stateDir, live)));
  assert.not.ok(existsSync(join(stateDir, stale)));
});

test('kill -9 before the first link exists: nothing is served, state.json says so, the next pull works', async () => {
  const { stateDir, root } = fresh('kill-first');
  const c = startChild(['pull', stateDir, root, SITE, 'a', '1'], 'before-rename');
  assert.is(await c.paused, 'before-rename');
  c.child.kill('SIGKILL');
  await c.exited;
  assert.not.ok(existsSync(root));
  const store = new VersionStore({ stateDir, root, site: SITE });
  assert.ok(store.recover().reconciled);
  const s = store.state()!;
  assert.is(s.digest, undefined);
  assert.is(s.reloaded, undefined);
  assert.is(s.history.length, 0, 'the switch that did not happen is not in the history');
  assert.is(s.switching, undefined);
  await pullSeed(store, 'a', 1);
  assert.equal(hashTree(root), expectedHashes('a'));
  assert.is(store.state()!.previous, undefined);
  assert.equal(reloadLog(stateDir), [hexOf('a')]);
});

test('the lock: one pull at a time; a dead holder (kill -9) is taken over', async () => {
  const { store, stateDir, root } = fresh('lock');
  const lock = store.lock();
  const again = new VersionStore({ stateDir, root, site: SITE });
  assert.throws(
    () => again.lock(),
    (e: unknown) => e instanceof PullStoreError && e.reason === 'locked' && /already holds .*lock/.test(e.message),
  );
  lock.release();
  assert.not.ok(existsSync(join(stateDir, 'lock')));
  const l2 = again.lock();
  l2.release();

  // A child killed while holding the lock (it pauses after taking it, in the middle of a pull).
  const c = startChild(['pull', stateDir, root, SITE, 'a', '1'], 'mid-commit');
  await c.paused;
  assert.throws(() => store.lock(), /another harvgen \(pid \d+\) has been pulling into/, 'held by a live child');
  c.child.kill('SIGKILL');
  await c.exited;
  const l3 = store.lock();
  assert.is(JSON.parse(readFileSync(join(stateDir, 'lock'), 'utf8')).pid, process.pid);
  l3.release();
  await pullSeed(store, 'a', 1);
  assert.equal(hashTree(root), expectedHashes('a'));

  // A lock file with no pid yet is a pull that is starting: refused, not taken.
  writeFileSync(join(stateDir, 'lock'), '');
  assert.throws(() => store.lock(), /cannot be read .*a harvgen is starting/);
});

test('the lock: a live but unrelated process with another start time (a reused pid) does not hold it', async () => {
  const { store, stateDir } = fresh('lock-reused');
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const stat = readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8');
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    writeFileSync(
      join(stateDir, 'lock'),
      JSON.stringify({
        pid: sleeper.pid,
        hostname: (await import('node:os')).hostname(),
        started: new Date().toISOString(),
        start: String(start + 12345),
      }),
    );
    const l = store.lock();
    assert.is(JSON.parse(readFileSync(join(stateDir, 'lock'), 'utf8')).pid, process.pid, 'taken over');
    l.release();
  } finally {
    sleeper.kill('SIGKILL');
  }
});

test('release files: a registry sending more than the signed size is stopped at it; nothing is left', async () => {
  const base = tempDir('pull-release-bound');
  const dir = join(base, 'artifacts');
  const f = releaseFixture(dir, [RELEASE_BYTES, Buffer.alloc(1 << 20), Buffer.alloc(1 << 20), Buffer.alloc(1 << 20)]);
  mkdirSync(join(base, 'state'), { recursive: true });
  try {
    await placeReleases(f.source, f.fetched, join(base, 'state'));
    assert.unreachable('refused');
  } catch (e) {
    assert.match((e as Error).message, new RegExp(`more than the ${RELEASE_BYTES.length} bytes the signed provenance gives`));
  }
  assert.ok(f.counter.pulled <= RELEASE_BYTES.length + (2 << 20), `${f.counter.pulled} bytes read`);
  assert.equal(readdirSync(dir), [], 'no temp, no target');
});

test('kill -9 during a release download: the next pull removes the temp and places the file', async () => {
  const base = tempDir('pull-release-kill');
  const dir = join(base, 'artifacts');
  const c = startChild(['release', dir], 'mid-release-download');
  assert.is(await c.paused, 'mid-release-download');
  c.child.kill('SIGKILL');
  await c.exited;
  const left = readdirSync(dir);
  assert.is(left.length, 1);
  assert.match(left[0]!, new RegExp(`^\\.harvester\\.iso\\.harvgen-tmp-${c.child.pid}-[0-9a-f]+$`));
  assert.is(lstatSync(join(dir, left[0]!)).size, 65536, 'a bounded part was written');
  const f = releaseFixture(dir);
  assert.is(await placeReleases(f.source, f.fetched, join(base, 'state')), 1);
  assert.equal(readdirSync(dir), ['harvester.iso'], "the dead pull's temp is gone");
  assert.ok(readFileSync(f.target).equals(RELEASE_BYTES));
});

test.run();
