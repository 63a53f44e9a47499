// `harvgen verify` against a failover pair (docs/failover.md, "Day 2 across the pair"): run on one
// of the two boot servers, it checks the shared address and each server at its own address, and
// reads every node's files on each (nginx serves them to the boot servers' own addresses too). A
// server whose copy of a node config is stale is VERIFY_DRIFT at that server's URL, whichever holds
// the shared address. From another host on the nodes' network the same configs are refused, not
// compared: verify says so (the mutation of running it where the access rules leave it out).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { describe, run } from './helpers/proc.ts';
import { startBootPair, type BootPair } from './helpers/failover-pair.ts';
import { buildFixtureTrees, type SiteTree } from './helpers/tree.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import type { Netns } from './helpers/netns.ts';
import { tempDir } from '../helpers/tmp.ts';

const ready = requireProgram('keepalived', 'kea-dhcp4', 'dnsmasq', 'nginx', 'curl', 'ip') && requireRoot();

let tree: Promise<SiteTree> | undefined;
const fixture = async () =>
  await (tree ??= buildFixtureTrees('failover-verify', { kea: path.join(REPO_ROOT, 'test/fixtures/build/failover-kea/site') }).then(
    (t) => t.kea,
  ));

interface Doc {
  diagnostics: { code: string; file?: string; message: string }[];
  servers: { url: string; refused: string[]; failed: number }[];
}

/** The kea fixture's pair, boot-b serving a stale f1.yaml (a line appended), for `fn`. */
async function withStalePair(fn: (p: BootPair) => Promise<void>): Promise<void> {
  const d = tempDir('verify-release');
  writeFileSync(path.join(d, 'k'), 'kernel stand-in\n');
  writeFileSync(path.join(d, 'i'), 'initrd stand-in\n');
  const p = await startBootPair(
    await fixture(),
    { kernel: path.join(d, 'k'), initrd: path.join(d, 'i') },
    {
      serverTree: { server: 'boot-b', edit: (dir) => appendFileSync(path.join(dir, 'harvester/f1.yaml'), '# stale\n') },
    },
  );
  try {
    await fn(p);
  } finally {
    await p.stop();
  }
}

/** `harvgen verify --json` of the fixture's deploy tree, run in `ns`. */
async function verifyFrom(ns: Netns, t: SiteTree): Promise<{ code: number | null; doc: Doc; report: string }> {
  const r = await run(
    ns.exec([process.execPath, path.join(REPO_ROOT, 'bin/harvgen.js'), 'verify', t.sourceDir, '--out', path.dirname(t.dir), '--json']),
    { timeoutMs: 120_000, env: { ...process.env, NO_COLOR: '1' } },
  );
  let doc: Doc;
  try {
    doc = JSON.parse(r.stdout) as Doc;
  } catch {
    throw new Error(`verify printed no JSON document:\n${describe(r)}`);
  }
  return { code: r.code, doc, report: describe(r) };
}

test('verify on one server of a pair checks the shared address and both servers, and finds the stale config at the server that serves it', async () => {
  if (!ready) return;
  await withStalePair(async (p) => {
    const t = await fixture();
    const { code, doc, report } = await verifyFrom(p.server('boot-a').ns, t);
    assert.equal(
      doc.servers.map((s) => s.url),
      ['http://10.31.0.5:8080', 'http://10.31.0.6:8080', 'http://10.31.0.7:8080'],
      report,
    );
    assert.equal(
      doc.servers.map((s) => s.refused.length),
      [0, 0, 0],
      report,
    );
    assert.is(code, 1, report);
    assert.equal(
      doc.diagnostics.map((d) => `${d.code} ${d.file}`),
      ['VERIFY_DRIFT http://10.31.0.7:8080/harvester/f1.yaml'],
      report,
    );
  });
});

test("mutation: verify from a host on the nodes' network (no boot server, not in nginx.verify_from) has the configs refused, and cannot see the stale one", async () => {
  if (!ready) return;
  await withStalePair(async (p) => {
    const { code, doc, report } = await verifyFrom(p.client, await fixture());
    assert.is(code, 0, report);
    assert.equal(doc.diagnostics, [], report);
    assert.ok(
      doc.servers.every((s) => s.refused.includes(`${s.url}/harvester/f1.yaml`)),
      report,
    );
  });
});

test.run();
