// Tagged VLANs (network.vlans), run for real. Every boot MAC of the fixture site (a static create
// node, a DHCP join node with two NICs) PXE-boots untagged on the native network and installs on
// VLAN 100, through the generated dnsmasq and through the generated Kea, with UEFI and BIOS:
//
//   firmware PXE / iPXE ROM (native, untagged) -> iPXE -> boot.ipxe and the node's script from
//   nginx's native address -> kernel + initrd -> the test initramfs reads the installer's line:
//   makes vlan100 on its NIC (vlan=), puts the node's address on it (static ip=, or DHCP from the
//   VLAN's scope, whose reservation gives the node its ip), fetches the config from the boot
//   server's VLAN address, and reports that its NIC itself has no address.
//
// This machine's kernel has no 802.1Q and no VLAN-filtering bridge: the guest's tap is a trunk
// served by a userspace tagger (helpers/vlan-trunk.py) between it and the boot server's native
// interface and its VLAN 100 interface, named as the site names them; the guest's kernel tags with
// Debian's 8021q module. A mutation (the node's script tagging VLAN 200, which the site does not
// serve: what `check` refuses as NODE_VLAN_NO_SCOPE) fails the boot: its DHCP goes unanswered.
// The config checks run the real programs on the golden VLAN fixtures of each DHCP form, each with
// a mutation its program refuses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { findProgram, requireProgram, requireRoot } from './helpers/programs.ts';
import { ensureKernel, buildInitramfs, REPO_ROOT } from './helpers/initramfs.ts';
import { createNetns, withNetns } from './helpers/netns.ts';
import { dnsmasqTestTree } from './helpers/dnsmasq.ts';
import { prepareNginx, nginxTest, nginxFailure } from './helpers/nginx.ts';
import { dhcpdTest, keaTest, startKea } from './helpers/kea.ts';
import { withLab } from './helpers/lab.ts';
import { bootVm, cleanSerial, lazyBoots, type BootResult } from './helpers/qemu.ts';
import { buildFixtureTrees, copyTree, type SiteTree } from './helpers/tree.ts';
import { markers, requests } from './helpers/boot-log.ts';
import { describe, run, startDaemon, waitFor } from './helpers/proc.ts';
import type { VlanTrunkCounts } from './helpers/vlan-trunk.ts';
import { tempDir } from '../helpers/tmp.ts';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/real/vlan');
const GOLDEN = (f: string) => path.join(REPO_ROOT, `test/fixtures/build/${f}`);
const VLAN_SERVER = '10.100.0.1';
const LIMIT_MS = { bios: 150_000, uefi: 240_000 } as const;

const BOOT_PROGRAMS = ['ip', 'dnsmasq', 'nginx', 'qemu-system-x86_64', '/usr/bin/python3', '/bin/busybox', 'cpio'];
const UEFI_FILES = ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/lib/ipxe/snponly.efi'];
const BIOS_FILES = ['/usr/lib/ipxe/qemu/efi-virtio.rom'];

// ---- the generated files, checked by the programs that read them ----

test('dnsmasq --test accepts the VLAN scopes (an interface, a range or a static scope, router and DNS per VLAN) and the reservations', async () => {
  if (!requireProgram('dnsmasq')) return;
  const dir = path.join(GOLDEN('vlan-scopes'), 'expected');
  const r = await dnsmasqTestTree(dir, tempDir('vlan-dnsmasq'));
  assert.is(r.code, 0, describe(r));
  // The reservation files read as dhcp-host lines too.
  const file = path.join(tempDir('vlan-hosts'), 'hosts.conf');
  const hosts = await Promise.all(
    ['v1', 'v2', 'v3', 'native'].map((h) => readFile(path.join(dir, `dnsmasq/hosts/vlan-scopes.${h}`), 'utf8')),
  );
  await writeFile(
    file,
    hosts
      .flatMap((t) =>
        t
          .split('\n')
          .filter((l) => l && !l.startsWith('#'))
          .map((l) => `dhcp-host=${l}`),
      )
      .join('\n') + '\n',
  );
  const h = await run(['dnsmasq', '--test', `--conf-file=${file}`], { timeoutMs: 10_000 });
  assert.is(h.code, 0, describe(h));
});

test("kea-dhcp4 -t accepts a subnet per VLAN on its interface with its nodes' reservations; a node's VLAN address reserved in the native subnet is refused", async () => {
  if (!requireProgram('kea-dhcp4') || !requireProgram('ip') || !requireRoot()) return;
  const generated = await readFile(path.join(GOLDEN('vlan-kea'), 'expected/kea/harvgen.json'), 'utf8');
  const work = tempDir('vlan-kea');
  const good = path.join(work, 'harvgen.json');
  await writeFile(good, generated);
  // The mutation: the reservation in the wrong scope (the native subnet holds v1's VLAN address).
  const c = JSON.parse(generated) as { Dhcp4: { subnet4: { reservations: Record<string, string>[] }[] } };
  const v1 = c.Dhcp4.subnet4[0]!.reservations.find((r) => r.hostname === 'v1')!;
  v1['ip-address'] = '10.100.0.21';
  const bad = path.join(work, 'bad.json');
  await writeFile(bad, JSON.stringify(c, null, 2));
  const [ok, refused] = await withNetns('vlankea', async (ns) => [await keaTest(ns, good, work), await keaTest(ns, bad, work)]);
  assert.is(ok.code, 0, describe(ok));
  assert.match(ok.stdout + ok.stderr, /10\.100\.0\.0\/24/);
  assert.is.not(refused.code, 0, `kea-dhcp4 accepted a VLAN address in the native subnet\n${describe(refused)}`);
  assert.match(refused.stdout + refused.stderr, /10\.100\.0\.21/);
});

test('dhcpd -t accepts a subnet per VLAN with a host per boot MAC; a VLAN pool outside its subnet is refused', async () => {
  if (!requireProgram('dhcpd')) return;
  const file = path.join(GOLDEN('vlan-isc'), 'expected/dhcpd/harvgen.conf');
  const ok = await dhcpdTest(file);
  assert.is(ok.code, 0, describe(ok));
  const text = await readFile(file, 'utf8');
  const mutated = text.replace('range 10.100.0.100 10.100.0.199;', 'range 10.40.0.100 10.40.0.199;');
  assert.is.not(mutated, text, 'the mutation did not apply');
  const bad = path.join(tempDir('vlan-isc'), 'bad.conf');
  await writeFile(bad, mutated);
  const refused = await dhcpdTest(bad);
  assert.is.not(refused.code, 0, `dhcpd accepted a VLAN range outside its subnet\n${describe(refused)}`);
});

test("nginx -t accepts the server block that listens on the boot server's address on each VLAN", async () => {
  if (!requireProgram('nginx') || !requireProgram('ip') || !requireRoot()) return;
  const dir = path.join(GOLDEN('vlan-scopes'), 'expected');
  const snippet = await readFile(path.join(dir, 'nginx/harvgen.conf'), 'utf8');
  assert.match(snippet, /^ {4}listen 10\.100\.0\.5:8080;$/m);
  const ns = await createNetns('vlannginx');
  try {
    await ns.sh(['ip', 'link', 'add', 'hgvla', 'type', 'veth', 'peer', 'name', 'hgvlb']);
    for (const a of ['10.40.0.5/24', '10.100.0.5/24', '10.200.0.5/25']) await ns.sh(['ip', 'addr', 'add', a, 'dev', 'hgvla']);
    await ns.sh(['ip', 'link', 'set', 'hgvla', 'up']);
    const setup = await prepareNginx({
      prefix: path.join(tempDir('vlan-nginx'), 'p'),
      snippet,
      rewrite: { treeDir: dir, artifactsDir: dir },
    });
    const r = await nginxTest(setup, ns);
    assert.is(r.code, 0, await nginxFailure(setup, r));
  } finally {
    await ns.delete();
  }
});

// ---- boots ----

type Form = 'dnsmasq' | 'kea';
type Firmware = 'uefi' | 'bios';

interface Case {
  id: string;
  form: Form;
  firmware: Firmware;
  hostname: string;
  macIndex: number;
  title: string;
  /** The node's script tags VLAN 200, which the site does not serve. */
  mutation?: 'vlan200';
}

// Longest first (UEFI), so two lanes end together.
const CASES: Case[] = [
  {
    id: 'dnsmasq-uefi-create',
    form: 'dnsmasq',
    firmware: 'uefi',
    hostname: 'vl-create',
    macIndex: 0,
    title:
      "dnsmasq, UEFI: the static create node PXE-boots native and its installer fetches its config on VLAN 100 from the server's VLAN address",
  },
  {
    id: 'kea-uefi-join',
    form: 'kea',
    firmware: 'uefi',
    hostname: 'vl-join',
    macIndex: 0,
    title: "Kea, UEFI: the join node's first NIC PXE-boots native and its installer leases its reserved address from the VLAN's subnet",
  },
  {
    id: 'dnsmasq-uefi-join-2nd',
    form: 'dnsmasq',
    firmware: 'uefi',
    hostname: 'vl-join',
    macIndex: 1,
    title:
      "dnsmasq, UEFI: the join node's second NIC tags VLAN 100 on its own name and leases the node's reserved address from the VLAN's scope",
  },
  {
    id: 'dnsmasq-bios-join',
    form: 'dnsmasq',
    firmware: 'bios',
    hostname: 'vl-join',
    macIndex: 0,
    title:
      "dnsmasq, BIOS: the join node's first NIC leases its reserved address from the VLAN's scope and fetches its config over VLAN 100",
  },
  {
    id: 'kea-bios-create',
    form: 'kea',
    firmware: 'bios',
    hostname: 'vl-create',
    macIndex: 0,
    title: 'Kea, BIOS: the static create node boots native and fetches its config over VLAN 100',
  },
  {
    id: 'kea-bios-join-2nd',
    form: 'kea',
    firmware: 'bios',
    hostname: 'vl-join',
    macIndex: 1,
    title: "Kea, BIOS: the join node's second NIC leases the node's reserved address from the VLAN's subnet",
  },
  {
    id: 'mutation-vlan200',
    form: 'dnsmasq',
    firmware: 'bios',
    hostname: 'vl-join',
    macIndex: 0,
    mutation: 'vlan200',
    title:
      'mutation: a node script that tags VLAN 200 (no scope serves it; check refuses it as NODE_VLAN_NO_SCOPE) gets no address and fetches no config',
  },
];

/** The fixture as each form and firmware builds it (a site of its own name per variant). */
let variants: Promise<Record<string, SiteTree>> | undefined;
function getVariants(): Promise<Record<string, SiteTree>> {
  variants ??= (async () => {
    const out: Record<string, SiteTree> = {};
    for (const form of ['dnsmasq', 'kea'] as const) {
      for (const firmware of ['uefi', 'bios'] as const) {
        const key = `${form}-${firmware}`;
        const dir = path.join(tempDir(`vlan-${key}`), `real_vlan_${form}_${firmware}`);
        await cp(FIXTURE, dir, { recursive: true });
        const doc = parseYaml(await readFile(path.join(dir, 'site.yaml'), 'utf8')) as Record<string, any>;
        doc.site = `real_vlan_${form}_${firmware}`;
        doc.boot.firmware = firmware;
        // Harvester v1.7 refuses legacy BIOS in its preflight check (INSTALLER_PREFLIGHT_FAILS): v1.6 boots it.
        if (firmware === 'bios') doc.harvester.version = 'v1.6.1';
        if (form === 'kea') doc.dhcp = { server: 'kea' };
        await writeFile(path.join(dir, 'site.yaml'), stringifyYaml(doc));
        out[key] = (await buildFixtureTrees(`vlan-${key}`, { t: dir })).t;
      }
    }
    return out;
  })();
  return variants;
}

interface Outcome {
  tree: SiteTree;
  mac: string;
  result?: BootResult;
  access: string;
  dhcpLog: string;
  counts?: VlanTrunkCounts;
  error?: unknown;
}

function neededFiles(c: Case): string[] {
  return [...BOOT_PROGRAMS, ...(c.form === 'kea' ? ['kea-dhcp4'] : []), ...(c.firmware === 'uefi' ? UEFI_FILES : BIOS_FILES)];
}

const outcome = lazyBoots(
  CASES.filter((c) => neededFiles(c).every((p) => findProgram(p))),
  async () => {
    const kernel = await ensureKernel();
    return { kernel: kernel.vmlinuz, initrd: await buildInitramfs(kernel), trees: await getVariants() };
  },
  (c, { kernel, initrd, trees }) => runCase(c, trees[`${c.form}-${c.firmware}`]!, { kernel, initrd }),
);

const FATAL = ['Kernel panic', 'No bootable device', 'Shell> ', 'HARVGEN-DONE', 'could not load'];

async function runCase(c: Case, base: SiteTree, artifacts: { kernel: string; initrd: string }): Promise<Outcome> {
  const node = base.manifest.nodes.find((n) => n.hostname === c.hostname)!;
  const mac = node.macs[c.macIndex]!;
  let tree = base;
  if (c.mutation === 'vlan200') {
    tree = await copyTree(base, c.mutation);
    const script = path.join(tree.dir, node.ipxe.find((x) => x.mac === mac)!.path);
    const text = await readFile(script, 'utf8');
    const broken = text.replace(/ vlan=vlan100:(\S+) ip=vlan100:dhcp /, ' vlan=vlan200:$1 ip=vlan200:dhcp ');
    if (broken === text) throw new Error(`mutation ${c.mutation} did not apply to ${script}`);
    await writeFile(script, broken);
  }
  const out: Outcome = { tree, mac, access: '', dhcpLog: '' };
  try {
    await withLab(
      tree,
      artifacts,
      async (lab) => {
        let dhcp = () => lab.dnsmasqLog();
        if (c.form === 'kea') {
          const kea = await startKea(lab.ns, path.join(tree.dir, 'kea/harvgen.json'), lab.workDir, { iface: '', keepInterfaces: true });
          lab.daemons.push(kea);
          // TFTP beside Kea, as the docs say to run it: dnsmasq with no DHCP and no DNS.
          const tftp = startDaemon(
            'dnsmasq-tftp',
            lab.ns.exec([
              'dnsmasq',
              '--no-daemon',
              '--conf-file=/dev/null',
              '--port=0',
              '--enable-tftp',
              `--tftp-root=${path.join(lab.workDir, 'tftp')}`,
              '--interface=hgnat',
              '--bind-interfaces',
              '--log-facility=-',
            ]),
          );
          lab.daemons.push(tftp);
          await waitFor(() => tftp.exited() || /TFTP root is/.test(tftp.output()), 10_000);
          if (tftp.exited()) throw new Error(`TFTP-only dnsmasq did not start:\n${tftp.output()}`);
          dhcp = () => kea.output();
        }
        out.result = await bootVm({
          firmware: c.firmware,
          mac,
          ns: lab.ns,
          tap: lab.tap,
          workDir: lab.workDir,
          timeoutMs: LIMIT_MS[c.firmware],
          stopWhen: (raw) => {
            const s = cleanSerial(raw);
            return FATAL.find((f) => s.includes(f));
          },
        });
        out.counts = await lab.vlanCounts();
        out.access = await lab.accessLog();
        out.dhcpLog = dhcp();
      },
      { vlans: true, ...(c.form === 'kea' ? { dnsmasq: false } : {}) },
    );
  } catch (err) {
    out.error = err;
  }
  return out;
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Everything wrong with one boot; empty when the node installed on VLAN 100 as generated. */
async function problems(c: Case, o: Outcome): Promise<string[]> {
  if (o.error) return [`lab failed: ${o.error instanceof Error ? o.error.message : String(o.error)}`];
  const r = o.result;
  if (!r) return ['no boot result'];
  const node = o.tree.manifest.nodes.find((n) => n.hostname === c.hostname)!;
  const input = (
    o.tree.input as unknown as { nodes: { hostname: string; method?: string; ip: string; interfaces: { name: string; mac?: string }[] }[] }
  ).nodes.find((n) => n.hostname === c.hostname)!;
  const nic = input.interfaces.find((i) => i.mac === o.mac)?.name ?? input.interfaces[c.macIndex]!.name;
  const p: string[] = [];
  if (r.timedOut) p.push(`timed out after ${r.ms} ms`);
  const m = markers(r.serial);
  if (!m.cmdline) return [...p, 'the test kernel never reached /init'];
  const args = m.cmdline.split(/\s+/);
  const want = (arg: string, why: string) => {
    if (!args.includes(arg)) p.push(`kernel line lacks ${arg} (${why})`);
  };
  want(`vlan=vlan100:${nic}`, 'the VLAN on the NIC that booted, by its inventory name');
  want(`BOOTIF=01-${o.mac.replace(/:/g, '-')}`, 'the NIC that booted');
  const configPath = new URL(node.config!.url).pathname;
  want(`harvester.install.config_url=http://${VLAN_SERVER}${configPath}`, "the config from the server's VLAN address");
  if (!args.some((a) => a.startsWith(`root=live:http://${VLAN_SERVER}/`))) p.push("the live root is not on the server's VLAN address");
  const ipArgs = args.filter((a) => a.startsWith('ip='));
  const wantIp = input.method === 'static' ? `ip=${input.ip}::10.100.0.1:255.255.255.0:${c.hostname}:vlan100:none` : 'ip=vlan100:dhcp';
  if (ipArgs.join(' ') !== wantIp) p.push(`${ipArgs.join(' ') || 'no ip='}, expected ${wantIp}`);
  const line = (prefix: string) => m.lines.find((l) => l.startsWith(prefix)) ?? '';
  if (!line('HARVGEN-VLAN:').startsWith(`HARVGEN-VLAN: name=vlan100 id=100 parent=${nic} `))
    p.push(`VLAN report: "${line('HARVGEN-VLAN:')}"`);
  // The node's address on the VLAN (static, or DHCP from the VLAN scope's reservation), none on its NIC.
  if (!new RegExp(`\\binet ${input.ip.replace(/\./g, '\\.')}/24\\b`).test(line('HARVGEN-IP:')) || !line('HARVGEN-IP:').includes('vlan100'))
    p.push(`guest address: "${line('HARVGEN-IP:')}", expected ${input.ip} on vlan100`);
  if (line('HARVGEN-PARENT-IP:') !== 'HARVGEN-PARENT-IP: ') p.push(`the NIC itself has an address: "${line('HARVGEN-PARENT-IP:')}"`);
  if (line('HARVGEN-FETCH-RC:') !== 'HARVGEN-FETCH-RC: 0') p.push(`config fetch: ${line('HARVGEN-FETCH-RC:') || 'never attempted'}`);
  const config = await readFile(path.join(o.tree.dir, node.config!.path));
  if (m.sha !== sha256(config)) p.push(`the guest's config has sha256 ${m.sha ?? '(none)'}, the tree's ${sha256(config)}`);
  // nginx: iPXE fetched its script from a native pool address; the installer its config from the node's VLAN address.
  const reqs = requests(o.access);
  const script = reqs.find((q) => q.path === new URL(node.ipxe.find((x) => x.mac === o.mac)!.url).pathname);
  if (!script) p.push('iPXE never fetched its script');
  else if (!/^192\.168\.50\.1\d\d$/.test(script.ip)) p.push(`iPXE fetched its script from ${script.ip}, not from the native pool`);
  const got = reqs.find((q) => q.path === configPath);
  if (!got) p.push('nginx never saw the config request');
  else if (got.ip !== input.ip || got.status !== 200)
    p.push(`the config was requested from ${got.ip} (${got.status}), expected ${input.ip} (200)`);
  if (!((o.counts?.fromTrunk['100'] ?? 0) > 0)) p.push(`the trunk forwarded no VID-100 frame: ${JSON.stringify(o.counts)}`);
  if (
    input.method !== 'static' &&
    c.form === 'dnsmasq' &&
    !new RegExp(`DHCPACK\\(hgv100\\) ${input.ip.replace(/\./g, '\\.')} `).test(o.dhcpLog)
  )
    p.push(`dnsmasq never acknowledged ${input.ip} on hgv100`);
  if (
    input.method !== 'static' &&
    c.form === 'kea' &&
    !new RegExp(`lease ${input.ip.replace(/\./g, '\\.')} has been allocated`).test(o.dhcpLog)
  )
    p.push(`Kea never allocated ${input.ip}`);
  return p;
}

for (const c of CASES) {
  test(c.title, async () => {
    for (const f of neededFiles(c)) if (!requireProgram(f)) return;
    if (!requireRoot()) return;
    const o = await outcome(c.id);
    const p = await problems(c, o);
    const report = () =>
      [
        ...p.map((x) => `- ${x}`),
        `--- trunk counts --- ${JSON.stringify(o.counts)}`,
        '--- serial (tail) ---',
        cleanSerial(o.result?.serial ?? '').slice(-4000),
        '--- nginx access ---',
        o.access.slice(-3000),
        `--- ${c.form} (tail) ---`,
        o.dhcpLog.slice(-3000),
      ].join('\n');
    if (c.mutation) {
      // The normal judgement fails it, and for the reason: no address on VLAN 200, no config.
      assert.ok(p.length > 0, 'the VLAN 200 boot passed the normal check');
      const s = cleanSerial(o.result?.serial ?? '');
      assert.match(s, /HARVGEN-VLAN: name=vlan200 id=200 /, report());
      assert.match(s, /HARVGEN-ERROR: dhcp failed/, report());
      assert.ok((o.counts?.dropped['200'] ?? 0) > 0, `the trunk dropped no VID-200 frame\n${report()}`);
      assert.not.ok(
        requests(o.access).some((q) => q.path.startsWith('/harvester/')),
        'a config was fetched without an address on the VLAN',
      );
      return;
    }
    assert.equal(p, [], report());
  });
}

test.run();
