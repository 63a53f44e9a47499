// `harvgen verify --fleet` against a real nginx: three sites, each a copy of location_x's deploy
// tree served by its own generated server block (rewritten to listen on 127.0.0.1x:80 in a fresh
// network namespace) plus the state location a published site's nginx config has
// (`location = /.harvgen/state.json`), each with a state.json as `harvgen pull` writes it; a
// fleet record per site as `harvgen publish --record` writes it; verify run in the namespace as
// a user runs it (bin/harvgen.js). The generated config refuses every probe verify --fleet makes
// and serves the state file; one site drifted (its state.json says another digest) and one whose
// sample file was edited on the server are each caught, the third passes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { withNetns } from './helpers/netns.ts';
import { rewriteServerBlock, startNginx, wrapVerbatim } from './helpers/nginx.ts';
import { run, describe } from './helpers/proc.ts';
import { getTrees } from './helpers/tree.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { tempDir } from '../helpers/tmp.ts';
import { STATE_PATH } from '../../src/verify/index.ts';

const SITES = ['fleet_a', 'fleet_b', 'fleet_c'] as const;
const address = (i: number) => `127.0.0.${11 + i}`;
const digest = (n: number) => `sha256:${String(n).repeat(64)}`;

interface Doc {
  ok: boolean;
  checks: number;
  fleet: { site: string; state: string; served: string | null; checks: number; reachable: boolean }[];
  diagnostics: { code: string; message: string; file?: string }[];
}

test('verify --fleet over three sites on a real nginx: the generated config passes every probe; a drift and an edited sample file are caught (exit 1)', async () => {
  if (!requireProgram('nginx', 'ip') || !requireRoot()) return;
  const tree = (await getTrees()).location_x;
  const snippet = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
  const prefix = tempDir('fleet-nginx');
  const records = path.join(tempDir('fleet-record'), 'published');
  await mkdir(records, { recursive: true });
  await mkdir(path.join(prefix, 'logs'), { recursive: true });
  // The sample: public files (served, no access rules), as publish picks them (by the SHA-256 of their paths).
  const pathHash = (p: string) => createHash('sha256').update(p).digest('hex');
  const sample = tree.manifest.files
    .filter((f) => f.url !== undefined && f.allow === undefined && !f.url.includes('/artifacts/'))
    .sort((a, b) => (pathHash(a.path) < pathHash(b.path) ? -1 : 1))
    .slice(0, 4)
    .map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }));
  assert.ok(sample.length >= 3, JSON.stringify(sample));
  const servers: string[] = [];
  for (const [i, site] of SITES.entries()) {
    const root = path.join(prefix, 'srv', site);
    await cp(tree.dir, root, { recursive: true });
    const state = path.join(prefix, 'state', site, 'state.json');
    await mkdir(path.dirname(state), { recursive: true });
    // fleet_b serves an older artifact than git says.
    const served = site === 'fleet_b' ? digest(2) : digest(1);
    await writeFile(
      state,
      JSON.stringify({
        format: 1,
        site,
        digest: served,
        previous: digest(3),
        serial: 1764000000,
        commit: 'c'.repeat(40),
        switched_at: '2026-11-24T10:00:00Z',
        verdict: { ok: true, checks: 120, failed: 0, at: '2026-11-24T10:00:03Z' },
      }),
    );
    const rewritten = rewriteServerBlock(snippet, {
      treeDir: root,
      artifactsDir: path.join(prefix, 'artifacts'),
      listen: `${address(i)}:80`,
      logDir: path.join(prefix, 'logs', site),
    });
    await mkdir(path.join(prefix, 'logs', site), { recursive: true });
    const end = rewritten.text.lastIndexOf('}');
    // What a published site's nginx config adds: the materializer's state, and nothing else of its directory.
    const stateLocation = [
      `    location = /${STATE_PATH} {`,
      '        types { }',
      '        default_type application/json;',
      `        alias ${state};`,
      '    }',
    ].join('\n');
    servers.push(`${rewritten.text.slice(0, end)}${stateLocation}\n${rewritten.text.slice(end)}`);
    await writeFile(
      path.join(records, `${site}.json`),
      JSON.stringify({
        boot_server: `http://${address(i)}`,
        digest: digest(1),
        repository: `registry.example.net/harvgen/${site}`,
        sample,
        site,
        tag: site,
      }),
    );
  }
  // fleet_c: one sample file edited on the server.
  const edited = path.join(prefix, 'srv', 'fleet_c', sample[0]!.path);
  const bytes = await readFile(edited);
  bytes[bytes.length - 2]! ^= 0x20;
  await writeFile(edited, bytes);
  const setup = await wrapVerbatim(prefix, servers.join('\n'));
  await withNetns('fleet', async (ns) => {
    const nginx = await startNginx(setup, { host: address(0), port: 80 }, ns);
    try {
      const harvgen = (args: string[]) =>
        run(ns.exec([process.execPath, path.join(REPO_ROOT, 'bin/harvgen.js'), 'verify', '--fleet', records, ...args]), {
          timeoutMs: 60_000,
          env: { ...process.env, NO_COLOR: '1' },
        });
      const r = await harvgen(['--json']);
      const report = `${describe(r)}\n--- nginx ---\n${nginx.output()}`;
      let doc: Doc;
      try {
        doc = JSON.parse(r.stdout) as Doc;
      } catch {
        throw new Error(`verify --fleet printed no JSON document:\n${report}`);
      }
      assert.is(r.code, 1, report);
      assert.equal(
        doc.fleet.map((s) => [s.site, s.state, s.served, s.reachable]),
        [
          ['fleet_a', 'ok', digest(1), true],
          ['fleet_b', 'drift', digest(2), true],
          ['fleet_c', 'differs', digest(1), true],
        ],
        report,
      );
      assert.equal(
        doc.diagnostics.map((d) => `${d.code} ${d.file}`),
        [`VERIFY_FLEET_DRIFT http://${address(1)}/${STATE_PATH}`, `VERIFY_DRIFT http://${address(2)}/${sample[0]!.path}`],
        report,
      );
      assert.match(doc.diagnostics[0]!.message, `serves ${digest(2)}, git says ${digest(1)}`);
      // Every probe of fleet_a was refused by the generated config: the state file, the sample, 30-odd probes.
      assert.ok(doc.fleet[0]!.checks > 1 + sample.length + 25, report);
      const text = await harvgen([]);
      assert.is(text.code, 1, describe(text));
      assert.match(text.stdout, /^ok +fleet_a +sha256:1{8} +\d+ checks +\d+ ms$/m);
      assert.match(text.stdout, new RegExp(`^DRIFT +fleet_b +sha256:2{8} .*serves ${digest(2)}, git says ${digest(1)}$`, 'm'));
      assert.match(text.stdout, /^DIFFERS +fleet_c +sha256:1{8} /m);
    } finally {
      await nginx.stop();
    }
  });
});

test.run();
