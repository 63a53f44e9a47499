// A generic node on an IPv6-only network: its kernel line carries a network config for cloud-init
// (`network-config=`, version 2) that asks DHCPv6 on the NIC with its boot MAC and no DHCPv4, since
// cloud-init's own fallback (before 24.1) asks DHCPv4 only and would never reach the seed. cloud-init
// of Debian 12, 13 and sid (unpacked by scripts/fetch-cloud-init.sh, never installed) reads that line
// with its own code (test/real/helpers/cloud-init-netcfg.py): the NIC of the boot MAC gets a dhcp6
// subnet and no dhcp4 one. Mutation: the same line without `network-config=` gives cloud-init
// nothing from the kernel line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from '../../src/index.ts';
import { tempDir } from '../helpers/tmp.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { requireFetched, requireProgram } from './helpers/programs.ts';
import { run, describe } from './helpers/proc.ts';

const ROOTS = path.join(REPO_ROOT, '.tmp/real/cloud-init');
const SUITES = ['bookworm', 'trixie', 'sid'] as const;
const HELPER = path.join(REPO_ROOT, 'test/real/helpers/cloud-init-netcfg.py');
const SITE = path.join(REPO_ROOT, 'test/fixtures/real/ipv6');
const MAC = '00:16:3e:06:00:01';

interface Read {
  version: string;
  config: unknown;
  interfaces: { mac_address?: string; subnets: { type: string }[] }[];
}

let line: Promise<string> | undefined;
/** The kernel line of v6-uefi's script in the IPv6 fixture's tree. */
function kernelLine(): Promise<string> {
  line ??= (async () => {
    const out = path.join(tempDir('v6-ci'), 'out');
    const r = await build({ sites: [SITE], outDir: out });
    if (!r.ok) throw new Error(JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
    const script = readFileSync(path.join(out, 'real_ipv6/ipxe/00-16-3e-06-00-01.ipxe'), 'utf8');
    const kernel = /^kernel --name vmlinuz \S+ (.*) \|\| goto failed$/m.exec(script)?.[1];
    if (!kernel) throw new Error(`no kernel line in the script:\n${script}`);
    return kernel;
  })();
  return line;
}

async function read(suite: string, cmdline: string): Promise<Read> {
  const r = await run(['/usr/bin/python3', HELPER, path.join(ROOTS, suite), cmdline], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(describe(r));
  return JSON.parse(r.stdout) as Read;
}

/** The seed URL NoCloud's own parser (DataSourceNoCloud.parse_cmdline_data) takes from `cmdline`. */
async function seedOf(suite: string, cmdline: string): Promise<string | undefined> {
  const code = [
    'import json, sys',
    `sys.path.insert(0, sys.argv[1] + "/usr/lib/python3/dist-packages")`,
    'from cloudinit.sources.DataSourceNoCloud import parse_cmdline_data',
    'fill = {}',
    'parse_cmdline_data("ds=nocloud", fill, sys.argv[2])',
    'print(json.dumps(fill))',
  ].join('\n');
  const r = await run(['/usr/bin/python3', '-c', code, path.join(ROOTS, suite), cmdline], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(describe(r));
  return (JSON.parse(r.stdout) as { seedfrom?: string }).seedfrom;
}

const ready = (suite: string) =>
  requireProgram('/usr/bin/python3') &&
  requireFetched(
    existsSync(path.join(ROOTS, suite, 'VERSION')) ? [] : [suite],
    `cloud-init ${suite} is not unpacked (bash scripts/fetch-cloud-init.sh)`,
  );

for (const suite of SUITES) {
  test(`cloud-init (${suite}) reads DHCPv6 and no DHCPv4 for the boot NIC of a node on an IPv6-only network, and nothing without the line's network config; NoCloud reads the bracketed seed URL`, async () => {
    if (!ready(suite)) return;
    const cmdline = await kernelLine();
    const got = await read(suite, cmdline);
    const nic = got.interfaces.find((i) => i.mac_address === MAC);
    assert.ok(nic, `cloud-init ${got.version}: no interface with ${MAC}: ${JSON.stringify(got)}`);
    const types = nic!.subnets.map((s) => s.type);
    assert.ok(types.includes('dhcp6'), `cloud-init ${got.version}: no dhcp6 subnet: ${JSON.stringify(nic)}`);
    assert.not.ok(
      types.some((t) => t === 'dhcp' || t === 'dhcp4'),
      `cloud-init ${got.version}: DHCPv4 on an IPv6-only network: ${JSON.stringify(nic)}`,
    );
    // The seed URL, brackets and all, as NoCloud's own parser reads it from the line.
    const seed = await seedOf(suite, cmdline);
    assert.is(seed, 'http://[fd00:6::1]/cloud-init/00-16-3e-06-00-01/', `cloud-init ${got.version}`);
    // Mutation: without network-config= cloud-init has nothing from the kernel line (its fallback then).
    const without = await read(suite, cmdline.replace(/ network-config=\S+/, ''));
    assert.is(without.config, null);
  });
}

test.run();
