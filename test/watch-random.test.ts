// watch's reuse under random edits (a seeded sequence, the same on every run): after each edit the
// watched tree and diagnostics are those of a fresh build of the same inventory. Edits are drawn
// from what reuse keys on: one node's own values, a node added or removed (later nodes change
// index), a node renamed (as many files under other paths), a value of site.yaml every node
// reads, a profile and sites/_defaults.yaml (shared layers), two edits at once. test/watch-incremental.test.ts walks each kind once, in order.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateRichRepo, nodeFile, RICH_TOKEN_ENV, richNodeText } from '../bench/gen.ts';
import { build, watch, type WatchEvent } from '../src/index.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';
import { prng } from './helpers/prng.ts';

test('random edits: the watched tree always equals a fresh build', async () => {
  process.env[RICH_TOKEN_ENV] ??= 'bench-env-token-0123456789abcdef';
  const root = tempDir('watch-random');
  const nodes = 20;
  const [siteDir] = generateRichRepo(root, 1, nodes);
  const sites = [siteDir!.slice(root.length + 1)];
  writeFileSync(join(siteDir!, 'site.yaml'), `${readFileSync(join(siteDir!, 'site.yaml'), 'utf8')}bss:\n  export: true\n`);
  // No node says `role: create`: the first Harvester node creates the cluster (a node the model
  // makes from it at each compile).
  writeFileSync(nodeFile(root, 0, 0), readFileSync(nodeFile(root, 0, 0), 'utf8').replace('role: create\n', ''));
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
  const random = prng(36);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const rewrite = (path: string, change: (text: string) => string) => writeFileSync(path, change(readFileSync(path, 'utf8')));
  const present = () => Array.from({ length: nodes + 8 }, (_, k) => k).filter((k) => existsSync(nodeFile(root, 0, k)));
  let next = nodes;
  let moved = 0;
  let taken: { k: number; text: string } | undefined;
  const site = join(siteDir!, 'site.yaml');
  const profile = join(root, 'sites/_profiles/r650.yaml');
  const defaults = join(root, 'sites/_defaults.yaml');
  const edits: [string, () => void][] = [
    [
      'a node value',
      () => {
        const k = pick(present());
        rewrite(nodeFile(root, 0, k), (t) =>
          t.includes('device: ')
            ? t.replace(/device: [^\n]*/, `device: /dev/vd${pick(['b', 'c', 'd'])}`)
            : t.replace(/rack: r\d+/, `rack: r${Math.floor(random() * 90)}`).replace(/lun: \d+/, `lun: ${1 + Math.floor(random() * 9)}`),
        );
      },
    ],
    [
      // What the site-wide files hold for it (dnsmasq's host line, who nginx serves its config to).
      "a node's address",
      () => {
        const k = pick(present());
        rewrite(nodeFile(root, 0, k), (t) => t.replace(/ip: [^\n]*/, `ip: 10.100.199.${1 + (moved++ % 250)}`));
      },
    ],
    [
      // A finding about one node, then back at the next draw: two nodes on one address
      // (NODE_DUPLICATE_IP, a rule across nodes), a miswritten MAC (NODE_MAC_INVALID, a rule over
      // the nodes as written) or a kernel argument harvgen writes itself (NODE_KERNEL_ARG_RESERVED,
      // a rule per resolved node). Nothing is written meanwhile; the edits between are compiled
      // with the rules' kept findings.
      'a finding about a node, and back',
      () => {
        const back = taken;
        taken = undefined;
        if (back && existsSync(nodeFile(root, 0, back.k))) {
          writeFileSync(nodeFile(root, 0, back.k), back.text);
          return;
        }
        const j = pick(present());
        const k = pick(present().filter((n) => n !== j));
        const text = readFileSync(nodeFile(root, 0, k), 'utf8');
        taken = { k, text };
        const ipOf = (n: number) => /ip: ([^\n]*)/.exec(readFileSync(nodeFile(root, 0, n), 'utf8'))![1]!;
        const finding = pick([
          () => text.replace(/ip: [^\n]*/, `ip: ${ipOf(j)}`),
          () => text.replace(/(macs?: \[?[0-9a-f:]{16})[0-9a-f]/, '$1g'),
          () => `${text}kernel_args: [console=ttyS0, ip=dhcp]\n`,
        ]);
        writeFileSync(nodeFile(root, 0, k), finding());
      },
    ],
    ['a node added', () => writeFileSync(nodeFile(root, 0, next), richNodeText(0, next++))],
    [
      'a node removed',
      () => {
        const k = pick(present().filter((k) => k > 0));
        rmSync(nodeFile(root, 0, k));
      },
    ],
    [
      // As many files as before, under other paths: the site's files sort into another order.
      'a node renamed',
      () => {
        const k = pick(present().filter((k) => k > 0));
        renameSync(nodeFile(root, 0, k), nodeFile(root, 0, next++));
      },
    ],
    [
      'a site value',
      () =>
        // What every node's script or config reads: the console, the DNS servers, the OS profile's parameters.
        rewrite(site, (t) =>
          pick([
            () => t.replace(/console: \[tty\d/, `console: [tty${pick([0, 1, 2])}`),
            () => t.replace(/dns: \[([\d.]+), [\d.]+\]/, (_, first: string) => `dns: [${first}, 10.100.0.${pick([3, 4, 9])}]`),
            () => t.replace(/ip=dhcp, ro[^\]]*\]/, `ip=dhcp, ro${pick(['', ', quiet', ', rd.debug'])}]`),
          ])(),
        ),
    ],
    ['a profile value', () => rewrite(profile, (t) => t.replace(/miimon: \d+/, `miimon: ${pick([100, 200, 300])}`))],
    [
      'the repo defaults',
      () => rewrite(defaults, (t) => t.replace(/ntp_servers: \[[^\]]*\]/, `ntp_servers: [${pick(['ntp1', 'ntp2', 'ntp3'])}.example.net]`)),
    ],
  ];
  let fresh = 0;
  try {
    await handle.ready;
    assert.ok(events[0]!.result.ok);
    // Every kind once, in a shuffled order, then drawn at random (one in five rounds two at once).
    const order = edits
      .map((e) => [random(), e] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, e]) => e);
    let before = readTree(out);
    for (let round = 0; round < 20; round++) {
      const chosen = round < order.length ? [order[round]!] : random() < 0.2 ? [pick(edits), pick(edits)] : [pick(edits)];
      const what = `round ${round}: ${chosen.map(([w]) => w).join(' + ')}`;
      const count = events.length;
      const rebuilt = new Promise<void>((r) => {
        notify = r;
        setTimeout(r, 20_000);
      });
      for (const [, edit] of chosen) edit();
      await rebuilt;
      // Two edits may land in one rebuild or two: wait until watch is quiet.
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(events.length > count, `${what}: rebuilt`);
      const result = events.at(-1)!.result;
      const dir = `out-fresh-${fresh++}`;
      const fresher = await build({ cwd: root, sites, outDir: dir });
      assert.is(result.ok, fresher.ok, `${what}: ok as a fresh build`);
      assert.equal(
        result.diagnostics.map((d) => [d.code, d.message, d.file, d.line]),
        fresher.diagnostics.map((d) => [d.code, d.message, d.file, d.line]),
        `${what}: the same diagnostics`,
      );
      // A site with an error is not written: the watched tree stays as the last good build left it.
      const [watched, built] = [readTree(out), fresher.ok ? readTree(join(root, dir)) : before];
      const differ = [...new Set([...watched.keys(), ...built.keys()])].filter((p) => watched.get(p) !== built.get(p));
      assert.equal(differ, [], `${what}: byte-identical to a fresh build`);
      before = watched;
    }
  } finally {
    await handle.close();
  }
});

test.run();
