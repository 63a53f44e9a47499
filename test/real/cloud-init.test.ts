// cloud-init's own NoCloud code uses the seed harvgen generates (issue 18, item 4). The generic
// node of test/fixtures/real/generic_uefi boots with the kernel line of its script in the built
// tree; cloud-init from Debian's packages (12: 22.4.2, before NoCloud's 23.2 rework; 13: 25.1.x;
// sid: the newest upstream release), unpacked by scripts/fetch-cloud-init.sh, runs its own
// ds-identify and its local and network stages against that line (helpers/cloud-init-driver.py)
// while the generated nginx serves the tree at the seed's address, 192.168.122.1, inside a network
// namespace of the test: nothing leaves it. The user-data cloud-init ends up with must be the file
// the tree serves. Mutation: the argument harvgen wrote before (`ds=nocloud;s=<seed>`) is not used
// by Debian 12's cloud-init.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { requireFetched, requireProgram, requireRoot } from './helpers/programs.ts';
import { withNetns, type Netns } from './helpers/netns.ts';
import { prepareNginx, startNginx } from './helpers/nginx.ts';
import { run, describe } from './helpers/proc.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { buildFixtureTrees, type SiteTree } from './helpers/tree.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROOTS = path.join(REPO_ROOT, '.tmp/real/cloud-init');
const SUITES = ['bookworm', 'trixie', 'sid'] as const;
const DRIVER = path.join(REPO_ROOT, 'test/real/helpers/cloud-init-driver.py');
const PYTHON = '/usr/bin/python3';
/** Python modules cloud-init imports (Debian packages in .ci/install-real-deps.sh). */
const PY_MODULES = ['yaml', 'jinja2', 'requests', 'jsonschema', 'configobj', 'oauthlib', 'netifaces', 'jsonpatch'];

interface DriverResult {
  version?: string;
  ds_identify_enabled?: boolean;
  datasource_list?: string[];
  stages: { stage: string; datasource: string | null; dsmode?: string; exit?: string }[];
  used: boolean;
  used_in?: string | null;
  userdata_matches_served?: boolean;
  outcome: string;
}

function present(): boolean {
  if (!requireProgram('nginx', 'ip', PYTHON) || !requireRoot()) return false;
  const missing = SUITES.filter((s) => !existsSync(path.join(ROOTS, s, 'VERSION')));
  return requireFetched(missing, `cloud-init packages missing (${missing.join(', ')}): run scripts/fetch-cloud-init.sh`);
}

let tree: Promise<SiteTree> | undefined;
const fixture = () =>
  (tree ??= buildFixtureTrees('cloud-init', { uefi: path.join(REPO_ROOT, 'test/fixtures/real/generic_uefi') }).then((t) => t.uefi));

/** The kernel arguments of the generic node's script (what its kernel line carries). */
async function kernelArgs(t: SiteTree): Promise<{ mac: string; args: string[]; userData: Buffer }> {
  const node = t.manifest.nodes.find((n) => (n as { boot?: string }).boot === 'os')!;
  const s = node.ipxe[0]!;
  const script = await readFile(path.join(t.dir, s.path), 'utf8');
  const m = /^kernel --name \S+ \S+ (.*?) \|\| goto failed$/m.exec(script);
  if (!m) throw new Error(`no kernel line in ${s.path}:\n${script}`);
  const userData = await readFile(path.join(t.dir, 'cloud-init', s.mac.replace(/:/g, '-'), 'user-data'));
  return { mac: s.mac, args: m[1]!.split(' '), userData };
}

/** Serve the tree with its generated nginx at boot.server's address inside `ns`, then run `fn`. */
async function serving<T>(t: SiteTree, ns: Netns, fn: () => Promise<T>): Promise<T> {
  const server = new URL(t.manifest.boot.server);
  const port = Number(server.port || 80);
  await ns.sh(['ip', 'addr', 'add', `${server.hostname}/32`, 'dev', 'lo']);
  const prefix = tempDir('cloud-init-nginx');
  const snippet = await readFile(path.join(t.dir, 'nginx/harvgen.conf'), 'utf8');
  const setup = await prepareNginx({
    prefix,
    snippet,
    // cloud-init runs here on the server's own address, not the node's: admit it to the node's seed.
    rewrite: {
      treeDir: t.dir,
      artifactsDir: path.join(prefix, 'artifacts'),
      listen: `${server.hostname}:${port}`,
      alsoAllow: [server.hostname],
    },
  });
  const daemon = await startNginx(setup, { host: server.hostname, port }, ns);
  try {
    return await fn();
  } finally {
    await daemon.stop();
  }
}

async function cloudInit(ns: Netns, suite: string, cmdline: string): Promise<DriverResult> {
  const r = await run(ns.exec([PYTHON, DRIVER, '--root', path.join(ROOTS, suite), '--cmdline', cmdline]), { timeoutMs: 120_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) throw new Error(`cloud-init driver failed (${suite}):\n${describe(r)}`);
  return JSON.parse(line) as DriverResult;
}

const show = (r: DriverResult) =>
  `${r.version}: ${r.outcome}; ds-identify ${r.ds_identify_enabled ? 'enabled' : 'disabled'} ${JSON.stringify(r.datasource_list)}; ${r.stages
    .map((s) => `${s.stage}: ${s.datasource ?? 'none'} dsmode=${s.dsmode ?? '-'}${s.exit ? ` (${s.exit})` : ''}`)
    .join('; ')}`;

test('the Python modules cloud-init needs are installed', async () => {
  if (!present()) return;
  const r = await run([PYTHON, '-c', `import ${PY_MODULES.join(', ')}`], { timeoutMs: 30_000 });
  assert.is(r.code, 0, `missing Python modules for cloud-init:\n${describe(r)}`);
});

test("cloud-init's own NoCloud code (Debian 12, 13 and sid) uses the generated seed in the network stage; the old argument is not used by Debian 12's", async () => {
  if (!present()) return;
  const t = await fixture();
  const { args, userData } = await kernelArgs(t);
  const ds = args.filter((a) => a.startsWith('ds='));
  assert.is(ds.length, 1, `one ds= argument: ${args.join(' ')}`);
  const seed = /;s=([^;]+)/.exec(ds[0]!)![1]!;
  const old = args.map((a) => (a.startsWith('ds=') ? `ds=nocloud;s=${seed}` : a)).join(' ');
  const results = await withNetns('cinit', (ns) =>
    serving(t, ns, async () => {
      const out: { suite: string; generated: DriverResult; old: DriverResult }[] = [];
      for (const suite of SUITES) {
        out.push({ suite, generated: await cloudInit(ns, suite, args.join(' ')), old: await cloudInit(ns, suite, old) });
      }
      return out;
    }),
  );
  for (const r of results)
    console.log(
      `  cloud-init ${r.suite}: generated -> ${show(r.generated)}\n    old ${ds[0]!.replace(/;dsmode=net$/, '')} -> ${r.old.outcome}`,
    );
  assert.ok(userData.length > 20, 'the fixture serves real user-data');
  for (const r of results) {
    assert.ok(r.generated.used && r.generated.used_in === 'init', `${r.suite}: ${show(r.generated)}`);
    assert.ok(r.generated.userdata_matches_served, `${r.suite}: cloud-init's user-data is not the served file`);
    assert.equal(
      r.generated.datasource_list?.map((d) => d.toLowerCase()).filter((d) => d !== 'none'),
      ['nocloud'],
      `${r.suite}: ds-identify picked NoCloud`,
    );
  }
  // The mutation: Debian 12's cloud-init fetches the old seed but never uses it (local mode).
  const bookworm = results.find((r) => r.suite === 'bookworm')!;
  assert.match(bookworm.generated.version ?? '', /^22\./);
  assert.not.ok(bookworm.old.used, `the old argument would have passed: ${show(bookworm.old)}`);
  assert.ok(
    bookworm.old.stages.some((s) => s.exit !== undefined),
    `the old argument fails for another reason than local mode: ${show(bookworm.old)}`,
  );
  // Newer cloud-init reads both: the old argument only failed before 23.2.
  assert.ok(results.find((r) => r.suite === 'sid')!.old.used);
});

test.run();
