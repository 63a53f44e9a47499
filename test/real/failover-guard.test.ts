// What a host on the nodes' network can do to a failover pair, and what each server's generated
// nftables rules (failover/<server>/nftables.conf) stop. Two boot servers in network namespaces
// running what harvgen generated (keepalived with its check, nginx, Kea with the HA hook), a third
// namespace on the same bridge as a hostile host:
//  - `nft -c` accepts every server's rules, and refuses a broken copy;
//  - forged VRRP adverts, each with the other server's address as source (Python's raw socket):
//    without the rules both servers give the shared address up; with them, whose VRRP rule names
//    the other server's MAC too (failover.servers[].mac), the holder keeps it; rules that check the
//    address alone (a mutation: the MAC removed) stop nothing;
//  - Kea's HA port: without the rules the hostile host holds the primary in maintenance with one
//    command; with them its connection is dropped and nothing changes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { createNetns, type Netns } from './helpers/netns.ts';
import { describe, run, sleep, waitFor } from './helpers/proc.ts';
import { plugServer, startBootPair, type BootPair } from './helpers/failover-pair.ts';
import { buildFixtureTrees, type SiteTree } from './helpers/tree.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { tempDir } from '../helpers/tmp.ts';

const ready = requireProgram('keepalived', 'kea-dhcp4', 'dnsmasq', 'nginx', 'curl', 'ip', 'nft', 'python3') && requireRoot();

let trees: Promise<Record<'kea' | 'dnsmasq', SiteTree>> | undefined;
const fixtures = () =>
  (trees ??= buildFixtureTrees('failover-guard', {
    kea: path.join(REPO_ROOT, 'test/fixtures/build/failover-kea/site'),
    dnsmasq: path.join(REPO_ROOT, 'test/fixtures/build/failover-dnsmasq/site'),
  }));

/** A VRRPv2 advert with a forged source address, sent from a raw socket (the sender's own MAC). */
const FORGE = `
import socket, struct, sys
src, dst, vrid, prio, vip = sys.argv[1:6]
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff
vrrp = struct.pack('!BBBBBBH', 0x21, int(vrid), int(prio), 1, 0, 1, 0) + socket.inet_aton(vip) + bytes(8)
vrrp = vrrp[:6] + struct.pack('!H', csum(vrrp)) + vrrp[8:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(vrrp), 0, 0, 255, 112, 0, socket.inet_aton(src), socket.inet_aton(dst))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(ip + vrrp, (dst, 0))
`;

/** The hostile host: a namespace on the nodes' bridge with an address of its own. */
async function hostile(p: BootPair): Promise<Netns> {
  const ns = await createNetns('evil');
  await plugServer(p.client, ns, 'eth0', 'evil', ['10.31.0.99/24']);
  return ns;
}

/** Load a server's nftables rules (the generated file, or `edit` of it) in its namespace. */
async function loadRules(p: BootPair, name: string, edit?: (t: string) => string): Promise<void> {
  let file = path.join(p.tree.dir, 'failover', name, 'nftables.conf');
  if (edit) {
    const text = readFileSync(file, 'utf8');
    const changed = edit(text);
    if (changed === text) throw new Error('the nftables mutation did not apply');
    file = path.join(tempDir('nft'), 'nftables.conf');
    writeFileSync(file, changed);
  }
  const r = await run(p.server(name).ns.exec(['nft', '-f', file]), { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`nft -f ${file}: ${describe(r)}`);
}

/**
 * For `seconds`, adverts of priority 254 forged to each server with the other's address as source,
 * every 300 ms; the holders seen meanwhile.
 */
async function forge(p: BootPair, evil: Netns, seconds: number): Promise<Set<string>> {
  const script = path.join(tempDir('forge'), 'forge.py');
  writeFileSync(script, FORGE);
  const [a, b] = p.servers;
  const seen = new Set<string>();
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (const [from, to] of [
      [b!, a!],
      [a!, b!],
    ] as const)
      await run(evil.exec(['python3', script, from.address, to.address, '31', '254', p.shared]), { timeoutMs: 5000 });
    seen.add((await p.holder()) ?? 'nobody');
    await sleep(300);
  }
  return seen;
}

async function withKeaPair(fn: (p: BootPair, evil: Netns) => Promise<void>): Promise<void> {
  const d = tempDir('guard-release');
  writeFileSync(path.join(d, 'k'), 'kernel stand-in\n');
  writeFileSync(path.join(d, 'i'), 'initrd stand-in\n');
  const p = await startBootPair((await fixtures()).kea, { kernel: path.join(d, 'k'), initrd: path.join(d, 'i') });
  let evil: Netns | undefined;
  try {
    evil = await hostile(p);
    await fn(p, evil);
  } finally {
    await evil?.delete();
    await p.stop();
  }
}

const said = (p: BootPair) => p.servers.map((s) => `--- keepalived ${s.name}\n${s.daemons.keepalived?.output().slice(-2000)}`).join('\n');

test('nft -c accepts each server’s nftables.conf of both fixtures, and refuses a broken copy', async () => {
  if (!ready) return;
  const t = await fixtures();
  for (const [kind, names] of [
    ['kea', ['boot-a', 'boot-b']],
    ['dnsmasq', ['pxe1', 'pxe2']],
  ] as const)
    for (const name of names) {
      const r = await run(['nft', '-c', '-f', path.join(t[kind].dir, 'failover', name, 'nftables.conf')], { timeoutMs: 20_000 });
      assert.is(r.code, 0, `${name}: ${describe(r)}`);
    }
  const broken = path.join(tempDir('nft-broken'), 'nftables.conf');
  writeFileSync(
    broken,
    readFileSync(path.join(t.kea.dir, 'failover/boot-a/nftables.conf'), 'utf8').replace('ip protocol vrrp drop', 'ip protocol vrrp dorp'),
  );
  const r = await run(['nft', '-c', '-f', broken], { timeoutMs: 20_000 });
  assert.is.not(r.code, 0, `nft accepted a broken copy: ${describe(r)}`);
});

/** `ha-maintenance-notify` to boot-a's HA port from the hostile host: Kea's answer, or the failure. */
async function maintenance(evil: Netns): Promise<{ code: number | null; out: string }> {
  const cmd = JSON.stringify({ command: 'ha-maintenance-notify', service: ['dhcp4'], arguments: { cancel: false } });
  const r = await run(
    evil.exec(['curl', '-sS', '--max-time', '4', '-H', 'Content-Type: application/json', '-d', cmd, 'http://10.31.0.6:8001/']),
    { timeoutMs: 10_000 },
  );
  return { code: r.code, out: r.stdout + r.stderr };
}
const inMaintenance = (p: BootPair) => /to IN-MAINTENANCE state/.test(p.server('boot-a').dhcpOutput());

test("without the rules: forged adverts with the servers' addresses as source make both give the shared address up, and one command to Kea's HA port holds the primary in maintenance", async () => {
  if (!ready) return;
  await withKeaPair(async (p, evil) => {
    const seen = await forge(p, evil, 8);
    assert.ok(seen.has('nobody'), `someone kept the address: ${[...seen].join(', ')}\n${said(p)}`);
    const r = await maintenance(evil);
    assert.is(r.code, 0, r.out);
    assert.match(r.out, /"result":\s*0/);
    assert.ok(
      await waitFor(() => inMaintenance(p), 10_000, 200),
      `boot-a is not in maintenance:\n${p.server('boot-a').dhcpOutput().slice(-2000)}`,
    );
  });
});

test("with the generated rules (the other server's address and MAC): the holder keeps the shared address through forged adverts, and the hostile host's HA command is dropped", async () => {
  if (!ready) return;
  await withKeaPair(async (p, evil) => {
    for (const s of p.servers) await loadRules(p, s.name);
    const seen = await forge(p, evil, 8);
    assert.equal([...seen], ['boot-a'], `the holder changed: ${[...seen].join(', ')}\n${said(p)}`);
    const r = await maintenance(evil);
    assert.is.not(r.code, 0, `Kea answered: ${r.out}`);
    await sleep(2000);
    assert.not.ok(inMaintenance(p), 'boot-a went into maintenance');
    // The pair itself still talks: the other server's heartbeats pass.
    assert.not.match(p.server('boot-a').dhcpOutput(), /COMMUNICATION-RECOVERY|PARTNER-DOWN/);
  });
});

test('mutation: rules that check the source address alone (no MAC) stop no forged advert', async () => {
  if (!ready) return;
  await withKeaPair(async (p, evil) => {
    for (const s of p.servers) await loadRules(p, s.name, (t) => t.replace(/ ether saddr \S+/, ''));
    const seen = await forge(p, evil, 8);
    assert.ok(seen.has('nobody'), `someone kept the address: ${[...seen].join(', ')}\n${said(p)}`);
  });
});

test.run();
