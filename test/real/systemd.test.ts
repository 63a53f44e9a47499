// systemd-analyze verify on the generated systemd/*.service units (socat port forwards) of every
// test site. It keeps rc 0 for most mistakes and only warns, so any stderr output is a failure.
// The units' ExecStart binary (/usr/bin/socat) must exist on the checking machine.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram } from './helpers/programs.ts';
import { run, describe, type RunResult } from './helpers/proc.ts';
import { getTrees, copyTree, exists, type SiteKey, type SiteTree } from './helpers/tree.ts';

const SITES: SiteKey[] = ['location_x', 'location_y', 'bios', 'uefi'];

async function units(tree: SiteTree): Promise<string[]> {
  const dir = path.join(tree.dir, 'systemd');
  if (!(await exists(dir))) return [];
  return (await readdir(dir)).filter((f) => /\.(service|socket|timer|target)$/.test(f)).sort();
}

/** Verify units by relative name from their directory (so they can refer to each other). */
function verify(dir: string, names: string[]): Promise<RunResult> {
  return run(['systemd-analyze', 'verify', '--man=no', ...names.map((n) => `./${n}`)], {
    cwd: dir,
    timeoutMs: 30_000,
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '' },
  });
}

for (const key of SITES) {
  test(`systemd-analyze verify accepts every generated unit of ${key} without a warning`, async () => {
    if (!requireProgram('systemd-analyze', 'socat')) return;
    const tree = (await getTrees())[key];
    const names = await units(tree);
    const forward = (tree.input.forward ?? {}) as { enabled?: boolean; ports?: number[] };
    // The units follow the lab unless `forward.enabled` says otherwise (`outputs.forward`).
    const outputs = (tree.input.outputs ?? {}) as { lab?: boolean; forward?: boolean };
    if (!(outputs.forward ?? forward.enabled ?? outputs.lab ?? tree.input.lab !== undefined)) {
      assert.equal(names, [], `${tree.label}: no forward units asked for, yet units were generated`);
      return;
    }
    assert.is(
      names.length,
      (forward.ports ?? [443, 6443]).length,
      `${tree.label}: expected one unit per forwarded port, got ${names.join(', ')}`,
    );
    for (const n of names) {
      const text = await readFile(path.join(tree.dir, 'systemd', n), 'utf8');
      const exec = /^ExecStart=(\S+)/m.exec(text)?.[1];
      assert.ok(exec && exec.startsWith('/'), `${tree.label} ${n}: ExecStart must name an absolute binary, got ${exec}`);
      assert.ok(await exists(exec), `${tree.label} ${n}: ${exec} is not installed here, so verify cannot check it (install socat)`);
    }
    const r = await verify(path.join(tree.dir, 'systemd'), names);
    assert.ok(
      r.code === 0 && r.stderr.trim() === '' && r.stdout.trim() === '',
      `${tree.label}: systemd-analyze verify complained:\n${describe(r)}`,
    );
  });
}

// --- mutations ---------------------------------------------------------------------------

const BROKEN: [string, (u: string) => string, 'rc' | 'stderr'][] = [
  ['an invalid Restart= value (warning only, rc 0)', (u) => u.replace(/^Restart=.*$/m, 'Restart=sometimes'), 'stderr'],
  ['a misspelt key (warning only, rc 0)', (u) => u.replace(/^Description=/m, 'Descriptionn='), 'stderr'],
  ['a missing ExecStart binary', (u) => u.replace(/^ExecStart=\/usr\/bin\/socat /m, 'ExecStart=/usr/bin/socatt '), 'rc'],
];

for (const [label, edit, how] of BROKEN) {
  test(`mutation: a unit with ${label} is caught`, async () => {
    if (!requireProgram('systemd-analyze', 'socat')) return;
    const tree = await copyTree((await getTrees()).location_x, 'systemd');
    const names = await units(tree);
    assert.ok(names.length > 0, 'location_x has no units to break');
    const file = path.join(tree.dir, 'systemd', names[0]!);
    const before = await readFile(file, 'utf8');
    const after = edit(before);
    assert.ok(after !== before, `mutation "${label}" did not apply`);
    await writeFile(file, after);
    const r = await verify(path.join(tree.dir, 'systemd'), names);
    const caught = r.code !== 0 || r.stderr.trim() !== '';
    assert.ok(caught, `not caught:\n${describe(r)}`);
    if (how === 'stderr') assert.ok(r.stderr.trim() !== '', `expected a warning on stderr:\n${describe(r)}`);
  });
}

test.run();
