// The installer's network as the program that sets it up reads it: Harvester's installer (v1.7+,
// on SL Micro 6) configures its network in the initrd with NetworkManager, whose
// nm-initrd-generator turns the kernel command line into connection profiles. Every kernel line
// harvgen writes for the Harvester nodes of test/fixtures/real/installer-net (a tagged management
// VLAN and an untagged one, boot NICs named by the inventory or only by their MAC, static and
// DHCP, an unknown machine joining) is given to Debian 12's nm-initrd-generator, and what it
// makes must put the node's address (or DHCP) on the VLAN its config names (`vlan_id`), on top of
// the NIC that booted, and nothing on that NIC itself (a boot NIC the inventory names no NIC for,
// and an unknown machine, install untagged: NODE_VLAN_INSTALLER_UNTAGGED): the duplicate address of Harvester's
// seeder (commit 6dc419a, a static address on the NIC while its VLAN asked DHCP). Lines mutated
// as the known failures are (a bare `ip=dhcp` beside `vlan=`, another VLAN ID, the address on the
// NIC) fail the same judgement. With `network.dhcp_servers: several` (installer-net-several) every
// installer gets its node's address from its line (Harvester's seeder, commit a4b0884: NetworkManager
// in the initrd racing several DHCP servers), on the VLAN when tagged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { requireProgram } from './helpers/programs.ts';
import { run, describe } from './helpers/proc.ts';
import { buildFixtureTrees, type SiteTree } from './helpers/tree.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';

const GENERATOR = '/usr/lib/NetworkManager/nm-initrd-generator';
/** The MAC the unknown machine's script is read as booting from (iPXE fills in ${mac}). */
const UNKNOWN_MAC = '52:54:00:20:00:99';

/** One connection profile nm-initrd-generator printed: its sections' keys. */
type Profile = Record<string, Record<string, string>>;

/** `nm-initrd-generator -s -- <args>`: the connection profiles it writes, by file name. */
async function profiles(args: readonly string[]): Promise<Map<string, Profile>> {
  const r = await run([GENERATOR, '-s', '--', ...args], { timeoutMs: 20_000 });
  assert.is(r.code, 0, describe(r));
  const out = new Map<string, Profile>();
  let current: Profile | undefined;
  let section = '';
  for (const line of r.stdout.split('\n')) {
    const head = /^\*\*\* (\w+) '(.*)' \*\*\*$/.exec(line);
    if (head) {
      current = head[1] === 'Connection' ? {} : undefined;
      if (current) out.set(head[2]!, current);
      continue;
    }
    if (!current) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      current[section] ??= {};
    } else if (line.includes('=')) current[section]![line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  }
  return out;
}

/** What a node's config says of its management network. */
interface Want {
  readonly vlan: number;
  readonly method: 'static' | 'dhcp';
  /** `<ip>/<prefix>,<gateway>` as NetworkManager writes address1. */
  readonly address?: string;
  readonly interfaces: readonly { name?: string; hwAddr?: string }[];
}

function wantOf(config: string): Want {
  const c = parseYaml(config) as { install: { management_interface: Record<string, unknown> } };
  const m = c.install.management_interface as {
    vlan_id?: number;
    method: 'static' | 'dhcp';
    ip?: string;
    subnet_mask?: string;
    gateway?: string;
    interfaces: { name?: string; hwAddr?: string }[];
  };
  const prefix = (mask: string) => mask.split('.').reduce((n, o) => n + Number(o).toString(2).replace(/0/g, '').length, 0);
  return {
    vlan: m.vlan_id ?? 0,
    method: m.method,
    ...(m.method === 'static' ? { address: `${m.ip}/${prefix(m.subnet_mask!)},${m.gateway}` } : {}),
    interfaces: m.interfaces,
  };
}

/**
 * The problems of one kernel line's network against the node's config: `mac` is the NIC that
 * booted, `index` its place among the node's boot MACs. Empty: the installer gets what the config says.
 */
async function judge(args: readonly string[], want: Want, mac: string, index: number): Promise<string[]> {
  const problems: string[] = [];
  const conns = await profiles(args);
  const nic = nicOf(want, mac, index);
  const vlans = [...conns.values()].filter((p) => p.connection?.type === 'vlan');
  const tagged = want.vlan > 1;
  let target: Profile | undefined;
  if (tagged) {
    if (vlans.length !== 1) problems.push(`${vlans.length} VLAN connections, not one`);
    target = vlans[0];
    if (target && Number(target.vlan?.id) !== want.vlan) problems.push(`VLAN ${target.vlan?.id}, the config says ${want.vlan}`);
    if (target && (nic === undefined || target.vlan?.parent !== nic))
      problems.push(`the VLAN is on ${target.vlan?.parent}, the NIC that booted is ${nic ?? 'unnamed'}`);
  } else if (vlans.length > 0) problems.push('a VLAN connection on an untagged network');
  // What NetworkManager activates on the NIC that booted: of the profiles that match it (its
  // name, its MAC, or any device), the one of the highest autoconnect priority, and only one.
  const matching = [...conns.values()].filter((p) => {
    if (p.connection?.type !== 'ethernet') return false;
    const name = p.connection['interface-name'];
    const hw = p.ethernet?.['mac-address']?.toLowerCase();
    return (name === undefined && hw === undefined) || (name !== undefined && name === nic) || hw === mac;
  });
  const top = Math.max(...matching.map((p) => Number(p.connection?.['autoconnect-priority'] ?? 0)));
  const first = matching.filter((p) => Number(p.connection?.['autoconnect-priority'] ?? 0) === top);
  if (first.length !== 1) problems.push(`${first.length} profiles of the same priority for the NIC that booted`);
  const onNic = first[0];
  if (tagged) {
    if (onNic?.ipv4?.method !== 'disabled')
      problems.push(`the NIC that booted has ipv4 ${onNic?.ipv4?.method}: a second address beside its VLAN's`);
  } else target = onNic;
  const method = target?.ipv4?.method;
  if (want.method === 'dhcp' && method !== 'auto') problems.push(`ipv4 ${method}, the config says DHCP`);
  if (want.method === 'static' && (method !== 'manual' || target?.ipv4?.address1 !== want.address))
    problems.push(`ipv4 ${method} ${target?.ipv4?.address1}, the config says ${want.address}`);
  return problems;
}

/** The name the config gives the NIC of `mac` (by its MAC, else by its place among the boot MACs), or undefined. */
function nicOf(want: Want, mac: string, index: number): string | undefined {
  const byMac = want.interfaces.find((i) => i.hwAddr?.toLowerCase() === mac && i.name !== undefined)?.name;
  return byMac ?? (want.interfaces[index] && want.interfaces[index]!.hwAddr === undefined ? want.interfaces[index]!.name : undefined);
}

/**
 * What the installer must get: the config's network, untagged when the config names no NIC for the
 * boot MAC (NODE_VLAN_INSTALLER_UNTAGGED: a NIC renamed for the installer would keep its installer
 * name in the installed system's bond) or when the machine is unknown.
 */
const installerWant = (want: Want, nic: string | undefined): Want => (nic === undefined ? { ...want, vlan: 0 } : want);

/** The kernel arguments of a script's `kernel` line, iPXE's ${mac} forms filled in with `mac`. */
function kernelLine(script: string, mac: string): string[] {
  const line = /^kernel --name vmlinuz \S+ (.*?) \|\| goto failed$/m.exec(script)?.[1];
  assert.ok(line, 'a kernel line');
  return line.replaceAll('${mac:hexhyp}', mac.replaceAll(':', '-')).replaceAll('${mac}', mac).split(' ');
}

// Built apart: the two sites share their MACs and boot server, as one network seen twice.
const trees = new Map<'net' | 'several', Promise<SiteTree>>();
const fixture = (which: 'net' | 'several') => {
  const dir = path.join(REPO_ROOT, which === 'net' ? 'test/fixtures/real/installer-net' : 'test/fixtures/real/installer-net-several');
  if (!trees.has(which))
    trees.set(
      which,
      buildFixtureTrees(`installer-${which}`, { t: dir }).then((r) => r.t),
    );
  return trees.get(which)!;
};

/**
 * Every Harvester boot script of a fixture: its kernel arguments, what its installer must get,
 * its MAC and the MAC's place. With several DHCP servers the installer takes the node's address
 * from its line, whatever the config says of the installed system.
 */
async function scripts(which: 'net' | 'several' = 'net') {
  const t = await fixture(which);
  const prefix = Number(t.input.network.cidr.split('/')[1]);
  const out: { what: string; args: string[]; want: Want; mac: string; index: number }[] = [];
  for (const node of t.manifest.nodes) {
    if (!('harvester_version' in node)) continue;
    const config = wantOf(await readFile(path.join(t.dir, 'harvester', `${node.hostname}.yaml`), 'utf8'));
    const gateway = t.input.network.gateway;
    const want: Want = which === 'several' ? { ...config, method: 'static', address: `${node.ip}/${prefix},${gateway}` } : config;
    for (const [index, mac] of node.macs.entries()) {
      const script = await readFile(path.join(t.dir, 'ipxe', `${mac.replaceAll(':', '-')}.ipxe`), 'utf8');
      const installer = installerWant(want, nicOf(want, mac, index));
      out.push({ what: `${node.hostname} (${mac})`, args: kernelLine(script, mac), want: installer, mac, index });
    }
  }
  if (which === 'net') {
    const join = await readFile(path.join(t.dir, 'unknown', 'join.yaml'), 'utf8');
    const unknown = await readFile(path.join(t.dir, 'unknown.ipxe'), 'utf8');
    out.push({
      what: 'an unknown machine joining',
      args: kernelLine(unknown, UNKNOWN_MAC),
      want: installerWant(wantOf(join), undefined),
      mac: UNKNOWN_MAC,
      index: 0,
    });
  }
  return out;
}

test('NetworkManager in the installer puts each node on the VLAN its config names, on the NIC that booted, and no address on that NIC', async () => {
  if (!requireProgram(GENERATOR)) return;
  const all = await scripts();
  assert.ok(all.length >= 8, `every boot MAC and the unknown machine (${all.length})`);
  assert.ok(
    all.filter((s) => s.want.vlan > 1).length >= 3 && all.filter((s) => s.want.vlan <= 1).length >= 3,
    'tagged and untagged installers',
  );
  for (const s of all) assert.equal(await judge(s.args, s.want, s.mac, s.index), [], `${s.what}: ${s.args.join(' ')}`);
});

test("several DHCP servers: every installer's initrd takes its node's address from its line (a DHCP node's too), on its VLAN when tagged", async () => {
  if (!requireProgram(GENERATOR)) return;
  const all = await scripts('several');
  assert.ok(all.length >= 7 && all.some((s) => s.want.vlan > 1) && all.some((s) => s.want.vlan <= 1), 'tagged and untagged nodes');
  for (const s of all) assert.equal(await judge(s.args, s.want, s.mac, s.index), [], `${s.what}: ${s.args.join(' ')}`);
  // A DHCP node's line of a single-server network asks DHCP: the judgement of the several-server one refuses it.
  const single = (await scripts('net')).find((s) => s.what.startsWith('tagged-dhcp'))!;
  const several = all.find((s) => s.what.startsWith('tagged-dhcp'))!;
  assert.match((await judge(single.args, several.want, several.mac, several.index)).join('; '), /ipv4 auto/);
});

test("the same judgement fails the lines of the known failures: a bare ip=dhcp beside vlan=, another VLAN ID, the seeder's address on the NIC", async () => {
  if (!requireProgram(GENERATOR)) return;
  const all = await scripts();
  const dhcp = all.find((s) => s.what.startsWith('tagged-dhcp'))!;
  const fixed = all.find((s) => s.what.startsWith('tagged-static'))!;
  const bare = dhcp.args.map((a) => (a.startsWith('ip=') ? 'ip=dhcp' : a));
  assert.ok((await judge(bare, dhcp.want, dhcp.mac, dhcp.index)).length > 0, 'a bare ip=dhcp: DHCP on the NIC too');
  const other = dhcp.args.map((a) => a.replaceAll('vlan100', 'vlan200'));
  assert.match((await judge(other, dhcp.want, dhcp.mac, dhcp.index)).join('; '), /VLAN 200, the config says 100/);
  // Seeder a4b0884's line: the static address on the NIC while vlan= creates the VLAN (which asks DHCP).
  const seeder = fixed.args.map((a) => (a.startsWith('ip=') ? a.replace(':vlan100:', ':enp1s0f0:') : a));
  assert.match((await judge(seeder, fixed.want, fixed.mac, fixed.index)).join('; '), /a second address beside its VLAN's/);
  const untaggedInstall = dhcp.args.filter((a) => !a.startsWith('vlan=')).map((a) => (a.startsWith('ip=') ? 'ip=eno1:dhcp' : a));
  assert.match((await judge(untaggedInstall, dhcp.want, dhcp.mac, dhcp.index)).join('; '), /0 VLAN connections/);
});

test.run();
