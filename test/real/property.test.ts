// Property: whenever `check` accepts an inventory, the real programs accept the files `build`
// writes for it. The inventories come from a seeded generator (helpers/gen-inventory.ts) that
// varies every field within its allowed values, edge values on purpose. An inventory that
// `check` rejects is a generator bug and fails here too, so the generator stays honest.
// HARVGEN_PROPERTY_SEED / HARVGEN_PROPERTY_CASES pick the run; every failure names the seed,
// the case and its site.yaml (HARVGEN_KEEP_TMP=1 keeps the trees).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { build, check, type Diagnostic } from '../../src/index.ts';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { run, describe, type RunResult } from './helpers/proc.ts';
import { withNetns } from './helpers/netns.ts';
import { prepareNginx, nginxTest, nginxFailure } from './helpers/nginx.ts';
import { dnsmasqTestTree } from './helpers/dnsmasq.ts';
import { exists } from './helpers/tree.ts';
import { libvirtFiles } from './helpers/boot-log.ts';
import { generateSite, propertySettings, type GeneratedSite } from './helpers/gen-inventory.ts';
import { tempDir } from '../helpers/tmp.ts';

const { seed, cases } = propertySettings();

/** One generated case: its inventory, where it was written and (when it built) its tree. */
interface Case {
  gen: GeneratedSite;
  yaml: string;
  siteDir: string;
  /** Built tree `<out>/<site>`; undefined when check or build refused the inventory. */
  tree?: string;
  /** Why it did not build (diagnostics or an exception). */
  refused?: string;
}

let prepared: Promise<Case[]> | undefined;

/** Generate, write, check and build every case once per process. */
function getCases(): Promise<Case[]> {
  prepared ??= (async () => {
    const root = tempDir('property');
    const out: Case[] = [];
    for (let i = 0; i < cases; i++) {
      const siteDir = path.join(root, 'sites', String(i));
      await mkdir(siteDir, { recursive: true });
      let gen: GeneratedSite;
      try {
        gen = generateSite(seed, i);
      } catch (err) {
        // A generator that cannot make a case is a generator bug: report it like a refusal.
        const g: GeneratedSite = { index: i, seed: -1, doc: {}, tags: [] };
        out.push({ gen: g, yaml: '', siteDir, refused: `the generator threw: ${(err as Error).stack ?? String(err)}` });
        continue;
      }
      const yaml = stringify(gen.doc, { lineWidth: 0 });
      await writeFile(path.join(siteDir, 'site.yaml'), yaml);
      const c: Case = { gen, yaml, siteDir };
      out.push(c);
      const checked = await check({ sites: [siteDir] });
      if (!checked.ok) {
        c.refused = `check() rejected it:\n${formatDiagnostics(checked.diagnostics)}`;
        continue;
      }
      const built = await build({ sites: [siteDir], outDir: path.join(root, 'out', String(i)), secrets: 'filled' });
      const site = built.sites[0];
      if (!built.ok || !site) {
        c.refused = `build() failed after check() passed:\n${formatDiagnostics(built.diagnostics)}`;
        continue;
      }
      c.tree = site.dir;
    }
    return out;
  })();
  return prepared;
}

function formatDiagnostics(ds: readonly Diagnostic[]): string {
  return ds
    .filter((d) => d.severity === 'error')
    .map((d) => `  ${d.code} ${d.path ?? ''}${d.line !== undefined ? ` (line ${d.line}:${d.col ?? 0})` : ''}: ${d.message}`)
    .join('\n');
}

/** How to get one case back, for failure messages. */
function reproduce(c: Case): string {
  return (
    `case ${c.gen.index} of seed ${seed} (case seed ${c.gen.seed}; ${c.gen.tags.join(', ')})\n` +
    `  reproduce: HARVGEN_PROPERTY_SEED=${seed} HARVGEN_PROPERTY_CASES=${c.gen.index + 1} HARVGEN_KEEP_TMP=1 ` +
    `npx uvu -r tsx test/real "property\\.test\\.ts$"`
  );
}

/** The failure report: each problem, then the inventory of every case involved. */
function report(what: string, failures: { c: Case; text: string }[]): string {
  const involved = [...new Set(failures.map((f) => f.c))];
  return [
    `${what}: ${failures.length} failure(s) in ${involved.length} case(s), seed ${seed}`,
    ...failures.map((f) => `--- ${reproduce(f.c)}\n${f.text}`),
    ...involved.map((c) => `=== site.yaml of case ${c.gen.index} (${c.siteDir}) ===\n${c.yaml}`),
  ].join('\n\n');
}

/**
 * harvgen bugs this property found that are not fixed yet. A failure of `program` whose output
 * matches `output`, on a file that `affects`, is counted as a known bug instead of failing the
 * run; every other failure of the same file or case still fails. A file that `affects` but is
 * accepted fails too (the bug is fixed: remove the entry, and teach the generator the new rule if
 * the fix makes `check` refuse such inventories). HARVGEN_PROPERTY_KNOWN_BUGS=fail turns them
 * into failures.
 */
interface KnownBug {
  id: string;
  program: Program;
  what: string;
  output: RegExp;
  affects(c: BuiltCase, file: string): Promise<boolean>;
}

// Empty since they were fixed (check now refuses what the programs refused): a DHCP range across
// a /16 (libvirt), lab memory beyond libvirt's limit, dnsmasq lines over 1024 characters (path
// lengths, boot MACs per node), 64+ DNS servers, dnsmasq-ambiguous hostnames, `//` in URLs.
const KNOWN_BUGS: readonly KnownBug[] = [];

const KNOWN_BUGS_FAIL = process.env.HARVGEN_PROPERTY_KNOWN_BUGS === 'fail';

type Program = 'nginx -t' | 'dnsmasq --test' | 'virt-xml-validate' | 'virsh define' | 'systemd-analyze verify' | 'sh -n';
const PROGRAMS: readonly Program[] = ['nginx -t', 'dnsmasq --test', 'virt-xml-validate', 'virsh define', 'systemd-analyze verify', 'sh -n'];

/** Per program: files given, accepted, and refused by a known bug (undefined: not run here). */
const tally: Partial<Record<Program, { given: number; accepted: number; known: number }>> = {};
const knownHits = new Map<string, number>();

/**
 * Record the outcome of one file and return the failure text, if any: a refusal explained by a
 * known bug is not a failure (unless HARVGEN_PROPERTY_KNOWN_BUGS=fail); an affected file that
 * was accepted is.
 */
async function judge(program: Program, c: BuiltCase, file: string, ok: boolean, output: string): Promise<string | undefined> {
  const t = (tally[program] ??= { given: 0, accepted: 0, known: 0 });
  t.given++;
  const bugs: KnownBug[] = [];
  for (const b of KNOWN_BUGS) if (b.program === program && (await b.affects(c, file))) bugs.push(b);
  if (ok) {
    t.accepted++;
    if (bugs.length === 0) return undefined;
    return `known bug ${bugs.map((b) => b.id).join(', ')} did not reproduce on ${path.relative(c.tree, file)}: if harvgen is fixed, remove it from KNOWN_BUGS`;
  }
  const bug = bugs.find((b) => b.output.test(output));
  if (!bug || KNOWN_BUGS_FAIL)
    return `${program} rejected ${path.relative(c.tree, file)}${bug ? ` (known bug ${bug.id}: ${bug.what})` : ''}:\n${output}`;
  t.known++;
  knownHits.set(bug.id, (knownHits.get(bug.id) ?? 0) + 1);
  return undefined;
}

/** Run fn over items, at most `limit` at a time (2 cores). */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

type BuiltCase = Case & { tree: string };

async function built(): Promise<BuiltCase[]> {
  return (await getCases()).filter((c): c is BuiltCase => c.tree !== undefined);
}

test(`check accepts every generated inventory and build writes its tree (${cases} cases, seed ${seed})`, async () => {
  const all = await getCases();
  const refused = all.filter((c) => c.refused !== undefined).map((c) => ({ c, text: c.refused! }));
  assert.ok(refused.length === 0, report('the generator made inventories that harvgen refuses (a generator bug)', refused));
  assert.is(all.length, cases);
});

// --- nginx -------------------------------------------------------------------------------------

/** Addresses the generated `listen` directives bind (none for a bare port or `*:port`). */
function listenAddresses(snippet: string): string[] {
  const out: string[] = [];
  for (const m of snippet.matchAll(/^\s*listen\s+([^;\s]+)/gm)) {
    const v = m[1]!;
    if (v.includes(':') && !v.startsWith('*')) out.push(v.split(':')[0]!);
  }
  return out;
}

test('nginx -t accepts the server block of every generated site (its listen addresses on lo, in one netns)', async () => {
  if (!requireProgram('nginx', 'ip') || !requireRoot()) return;
  const sites = await built();
  const setups = await Promise.all(
    sites.map(async (c) => {
      const snippet = await readFile(path.join(c.tree, 'nginx/harvgen.conf'), 'utf8');
      const prefix = tempDir(`property-nginx-${c.gen.index}`);
      const setup = await prepareNginx({ prefix, snippet, rewrite: { treeDir: c.tree, artifactsDir: path.join(prefix, 'artifacts') } });
      return { c, setup, addrs: listenAddresses(snippet) };
    }),
  );
  const failures: { c: Case; text: string }[] = [];
  // One namespace for all cases: every generated listen address on its lo. nginx -t binds the
  // listen sockets, so the configs are tested one after another (two may share a port).
  await withNetns('prop', async (ns) => {
    for (const a of new Set(setups.flatMap((s) => s.addrs))) await ns.sh(['ip', 'addr', 'replace', `${a}/32`, 'dev', 'lo']);
    for (const { c, setup } of setups) {
      const r = await nginxTest(setup, ns);
      const ok = r.code === 0 && /test is successful/.test(r.stderr);
      const text = await judge('nginx -t', c, path.join(c.tree, 'nginx/harvgen.conf'), ok, ok ? '' : await nginxFailure(setup, r));
      if (text) failures.push({ c, text });
    }
  });
  assert.ok(failures.length === 0, report('nginx -t', failures));
});

// --- dnsmasq -----------------------------------------------------------------------------------

test('dnsmasq --test accepts the config of every generated site as generated', async () => {
  if (!requireProgram('dnsmasq')) return;
  const failures: { c: Case; text: string }[] = [];
  await mapLimit(await built(), 2, async (c) => {
    const file = path.join(c.tree, 'dnsmasq/harvgen.conf');
    const r = await dnsmasqTestTree(c.tree, tempDir('prop-dnsmasq'));
    const ok = r.code === 0 && /syntax check OK/.test(r.stdout + r.stderr);
    const text = await judge('dnsmasq --test', c, file, ok, describe(r));
    if (text) failures.push({ c, text });
  });
  assert.ok(failures.length === 0, report('dnsmasq --test', failures));
});

// --- libvirt -----------------------------------------------------------------------------------

/** The generated sites with a `lab:` section; the others must have no libvirt/ at all (asserted). */
async function labCases(): Promise<BuiltCase[]> {
  const all = await built();
  const bare = all.filter((c) => c.gen.doc.lab === undefined);
  for (const c of bare)
    assert.not.ok(existsSync(path.join(c.tree, 'libvirt')), `${reproduce(c)}\nno lab: section, yet libvirt/ was written`);
  const lab = all.filter((c) => c.gen.doc.lab !== undefined);
  assert.ok(lab.length > 0, 'some generated sites have a lab: section');
  return lab;
}

test('virt-xml-validate accepts network.xml and every domain XML of every generated site', async () => {
  if (!requireProgram('virt-xml-validate', 'xmllint')) return;
  const jobs: { c: BuiltCase; file: string; kind: 'network' | 'domain' }[] = [];
  for (const c of await labCases()) {
    const { network, domains } = await libvirtFiles(c.tree);
    const nodes = (c.gen.doc.nodes as unknown[]).length;
    assert.is(domains.length, nodes, `${reproduce(c)}\nexpected one domain XML per node, got ${domains.length}`);
    jobs.push({ c, file: network, kind: 'network' }, ...domains.map((file) => ({ c, file, kind: 'domain' as const })));
  }
  const failures: { c: Case; text: string }[] = [];
  await mapLimit(jobs, 2, async ({ c, file, kind }) => {
    const r = await run(['virt-xml-validate', file, kind], { timeoutMs: 20_000 });
    const text = await judge('virt-xml-validate', c, file, r.code === 0, describe(r));
    if (text) failures.push({ c, text });
  });
  assert.ok(failures.length === 0, report('virt-xml-validate', failures));
});

test("libvirt's parser (virsh test:///default) defines the network and every domain of every generated site", async () => {
  if (!requireProgram('virsh')) return;
  const failures: { c: Case; text: string }[] = [];
  await mapLimit(await labCases(), 2, async (c) => {
    const { network, domains } = await libvirtFiles(c.tree);
    const define = (files: { cmd: string; file: string }[]): Promise<RunResult> =>
      run(['virsh', '-q', '-c', 'test:///default', files.map((f) => `${f.cmd} ${f.file}`).join(' ; ')], { timeoutMs: 20_000 });
    const ok = (r: RunResult) => r.code === 0 && !/error/i.test(r.stderr);
    const files = [{ cmd: 'net-define', file: network }, ...domains.map((file) => ({ cmd: 'define', file }))];
    // One virsh run per site; when it fails, one run per file tells which file libvirt refused.
    const all = await define(files);
    for (const f of files) {
      const r = ok(all) ? all : await define([f]);
      const text = await judge('virsh define', c, f.file, ok(r), describe(r));
      if (text) failures.push({ c, text });
    }
  });
  assert.ok(failures.length === 0, report('virsh -c test:///default define', failures));
});

// --- systemd -----------------------------------------------------------------------------------

test('systemd-analyze verify accepts every generated unit of every generated site without a warning', async () => {
  if (!requireProgram('systemd-analyze', 'socat')) return;
  const failures: { c: Case; text: string }[] = [];
  await mapLimit(await built(), 2, async (c) => {
    const dir = path.join(c.tree, 'systemd');
    const names = (await exists(dir)) ? (await readdir(dir)).filter((f) => /\.(service|socket|timer|target)$/.test(f)).sort() : [];
    const forward = (c.gen.doc.forward ?? {}) as { enabled?: boolean; ports?: number[] };
    // The units follow the lab unless `forward.enabled` says otherwise (`outputs.forward`).
    const enabled = forward.enabled ?? c.gen.doc.lab !== undefined;
    const expected = enabled ? (forward.ports ?? [443, 6443]).length : 0;
    if (names.length !== expected) {
      failures.push({ c, text: `expected ${expected} forward unit(s), got ${names.join(', ') || 'none'}` });
      return;
    }
    if (names.length === 0) return;
    // Verify by relative name from their directory (so they can refer to each other); any output is a failure.
    const r = await run(['systemd-analyze', 'verify', '--man=no', ...names.map((n) => `./${n}`)], {
      cwd: dir,
      timeoutMs: 30_000,
      env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '' },
    });
    const ok = r.code === 0 && r.stderr.trim() === '' && r.stdout.trim() === '';
    for (const n of names) {
      const text = await judge('systemd-analyze verify', c, path.join(dir, n), ok, describe(r));
      if (text) failures.push({ c, text });
    }
  });
  assert.ok(failures.length === 0, report('systemd-analyze verify', failures));
});

// --- shell scripts -----------------------------------------------------------------------------

test('sh -n accepts libvirt/define.sh and artifacts/fetch.sh of every generated site', async () => {
  if (!requireProgram('sh')) return;
  const lab = new Set(await labCases());
  const jobs = (await built()).flatMap((c) =>
    [...(lab.has(c) ? ['libvirt/define.sh'] : []), 'artifacts/fetch.sh'].map((rel) => ({ c, rel })),
  );
  const failures: { c: Case; text: string }[] = [];
  await mapLimit(jobs, 2, async ({ c, rel }) => {
    const r = await run(['sh', '-n', path.join(c.tree, rel)], { timeoutMs: 10_000 });
    const text = await judge('sh -n', c, path.join(c.tree, rel), r.code === 0 && r.stderr.trim() === '', describe(r));
    if (text) failures.push({ c, text });
  });
  assert.ok(failures.length === 0, report('sh -n', failures));
});

// --- summary -----------------------------------------------------------------------------------

test('every real program that ran accepted every generated file it was given (known harvgen bugs aside)', () => {
  const parts = PROGRAMS.map((p) => {
    const t = tally[p];
    return t ? `${p} ${t.accepted}/${t.given}${t.known ? ` (+${t.known} known bug)` : ''}` : `${p} not run`;
  });
  const known = [...knownHits].map(([id, n]) => `${id} x${n}`).join(', ');
  console.log(
    `  property: ${cases} cases, seed ${seed}; files accepted: ${parts.join(', ')}${known ? `; known harvgen bugs hit: ${known}` : ''}`,
  );
  for (const p of PROGRAMS) {
    const t = tally[p];
    if (t) assert.is(t.accepted + t.known, t.given, `${p}: accepted ${t.accepted} of ${t.given} files (${t.known} known bug)`);
  }
});

test.run();
