// A generic node that boots from its own ISO (`medium: iso`) gets no DHCP after it either: its
// kernel line carries its static address for cloud-init (`network-config=`, version 2). cloud-init
// of Debian 12, 13 and sid (unpacked by scripts/fetch-cloud-init.sh, never installed) reads that
// line with its own code (test/real/helpers/cloud-init-netcfg.py): the NIC with the boot MAC gets
// the node's address, the default route goes through its gateway, and its DNS servers are set.
// Mutation: the same line without `network-config=` gives cloud-init no config (it would fall back
// to DHCP on the first NIC).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from '../../src/index.ts';
import { mediaSite } from '../helpers/media.ts';
import { tempDir } from '../helpers/tmp.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { requireFetched, requireProgram } from './helpers/programs.ts';
import { run, describe } from './helpers/proc.ts';

const ROOTS = path.join(REPO_ROOT, '.tmp/real/cloud-init');
const SUITES = ['bookworm', 'trixie', 'sid'] as const;
const HELPER = path.join(REPO_ROOT, 'test/real/helpers/cloud-init-netcfg.py');
const MAC = '52:54:00:4d:00:02';

interface Read {
  version: string;
  config: unknown;
  interfaces: {
    mac_address?: string;
    subnets: { type: string; address?: string; prefix?: number; netmask?: string; dns_nameservers?: string[]; routes?: unknown[] }[];
  }[];
  routes: { network?: string; prefix?: number; gateway?: string }[];
  dns: string[];
}

let line: Promise<string> | undefined;
/** The kernel line of os-m1's script in the media fixture's tree. */
function kernelLine(): Promise<string> {
  line ??= (async () => {
    const out = path.join(tempDir('media-ci'), 'out');
    const r = await build({ sites: [mediaSite()], outDir: out });
    if (!r.ok) throw new Error(JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
    const script = readFileSync(path.join(out, 'real_media/ipxe/52-54-00-4d-00-02.ipxe'), 'utf8');
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

const ready = (suite: string) =>
  requireProgram('/usr/bin/python3') &&
  requireFetched(
    existsSync(path.join(ROOTS, suite, 'VERSION')) ? [] : [suite],
    `cloud-init ${suite} is not unpacked (bash scripts/fetch-cloud-init.sh)`,
  );

for (const suite of SUITES) {
  test(`cloud-init (${suite}) reads the ISO node's static address from its kernel line, and nothing without it`, async () => {
    if (!ready(suite)) return;
    const cmdline = await kernelLine();
    const got = await read(suite, cmdline);
    const nic = got.interfaces.find((i) => i.mac_address === MAC);
    assert.ok(nic, `cloud-init ${got.version}: no interface with ${MAC}: ${JSON.stringify(got)}`);
    const subnet = nic!.subnets.find((s) => s.type === 'static');
    assert.ok(subnet, `cloud-init ${got.version}: no static subnet: ${JSON.stringify(nic)}`);
    assert.is(subnet!.address?.split('/')[0], '10.0.5.12', JSON.stringify(subnet));
    const prefix = subnet!.prefix ?? Number(subnet!.address?.split('/')[1] ?? NaN);
    assert.ok(prefix === 24 || subnet!.netmask === '255.255.255.0', JSON.stringify(subnet));
    const routes = [...got.routes, ...(subnet!.routes ?? [])] as { network?: string; prefix?: number; gateway?: string }[];
    assert.ok(
      routes.some((r) => r.gateway === '10.0.5.1' && (r.network === '0.0.0.0' || r.network === '::') && (r.prefix ?? 0) === 0),
      `cloud-init ${got.version}: no default route via 10.0.5.1: ${JSON.stringify(routes)}`,
    );
    assert.ok([...got.dns, ...(subnet!.dns_nameservers ?? [])].includes('10.0.5.1'), JSON.stringify(got));
    // Mutation: without network-config= cloud-init has nothing from the kernel line.
    const without = await read(suite, cmdline.replace(/ network-config=\S+/, ''));
    assert.is(without.config, null);
  });
}

test.run();
