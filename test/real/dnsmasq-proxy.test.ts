// Proxy DHCP beside someone else's server (`dnsmasq.mode: proxy`): a real iPXE client boots its
// own per-MAC script while two DHCP servers answer on its network: a plain dnsmasq that gives
// addresses (a range, a router and the reservation the operator made for the node; no boot
// options) in a namespace of its own, and harvgen's dnsmasq (global.conf + harvgen.conf, test
// copy) in proxy mode next to the generated nginx. Test kernel and initramfs as in boot.test.ts.
//   BIOS: SeaBIOS -> the NIC's iPXE ROM -> DHCP as iPXE: address from the plain server, boot.ipxe
//         from the proxy's dhcp-boot line -> the node's script -> kernel, initrd, config.
//   UEFI: OVMF's own PXE (arch 7) -> the proxy's pxe-service: snponly.efi over TFTP -> iPXE -> as BIOS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { ensureKernel, buildInitramfs, REPO_ROOT } from './helpers/initramfs.ts';
import { withLab } from './helpers/lab.ts';
import { dnsmasqTestTree } from './helpers/dnsmasq.ts';
import { describe } from './helpers/proc.ts';
import { bootVm, cleanSerial, lazyBoots, type BootResult } from './helpers/qemu.ts';
import { buildFixtureTrees, copyTree, type SiteTree } from './helpers/tree.ts';
import { tempDir } from '../helpers/tmp.ts';
import { exampleWithSecrets } from '../helpers/example.ts';

/** A copy of a site directory with `dnsmasq: { mode: proxy }` (and, when `fileKey`, `nginx.file_key`) added to its site.yaml. */
async function proxied(dir: string, fileKey?: string): Promise<string> {
  const copy = path.join(tempDir('proxy-site'), path.basename(dir));
  await cp(dir, copy, { recursive: true });
  const file = path.join(copy, 'site.yaml');
  const text = await readFile(file, 'utf8');
  if (/^dnsmasq:/m.test(text)) throw new Error(`${file} already has a dnsmasq section`);
  if (fileKey !== undefined && /^nginx:/m.test(text)) throw new Error(`${file} already has an nginx section`);
  const key = fileKey !== undefined ? `\nnginx:\n  file_key: ${fileKey}\n` : '';
  await writeFile(file, `${text}\ndnsmasq:\n  mode: proxy\n${key}`);
  return copy;
}

type Key = 'x' | 'bios' | 'keyed';
let trees: Promise<Record<Key, SiteTree>> | undefined;
function proxyTrees(): Promise<Record<Key, SiteTree>> {
  trees ??= (async () => {
    const plain = await buildFixtureTrees('proxy', {
      x: await proxied(exampleWithSecrets('location_x')),
      bios: await proxied(path.join(REPO_ROOT, 'test/fixtures/real/bios')),
    });
    // The same site name as `bios`: built on its own.
    const keyed = await buildFixtureTrees('proxy-keyed', {
      keyed: await proxied(path.join(REPO_ROOT, 'test/fixtures/real/bios'), 'proxy-test-file-key-0123456789abcdef0123456789abcdef'),
    });
    return { ...plain, ...keyed };
  })();
  return trees;
}

interface Case {
  id: string;
  key: Key;
  hostname: string;
  /** Edit of the generated harvgen.conf (a mutation that must make the boot fail). */
  mutate?: (conf: string) => string;
}

const LIMIT_MS = { bios: 90_000, uefi: 150_000 } as const;

const CASES: Case[] = [
  { id: 'uefi', key: 'x', hostname: 'hv-2' },
  { id: 'bios', key: 'bios', hostname: 'hv-b1' },
  // nginx.file_key: BIOS iPXE's menu item of this MAC names its keyed script (boot.ipxe would find only the stub).
  { id: 'bios-keyed', key: 'keyed', hostname: 'hv-b1' },
  // iPXE not told apart from firmware: it gets iPXE again, and again.
  { id: 'no-ipxe-tag', key: 'bios', hostname: 'hv-b1', mutate: (c) => c.replace(/^dhcp-(userclass|match)=set:ipxe,.*\n/gm, '') },
  // BIOS iPXE takes a proxy's boot file only from a menu item (the dhcp-boot line alone: "Nothing to boot").
  { id: 'no-bios-ipxe-item', key: 'bios', hostname: 'hv-b1', mutate: (c) => c.replace(/^pxe-service=.*,tag:ipxe,x86PC,.*\n/m, '') },
];

/** The other server's lines: the network's pool, its router, and the node's reservation (what the operator adds there). */
function addressServer(tree: SiteTree, node: { macs: string[]; ip?: string | null }): string[] {
  const net = tree.input.network as { gateway: string; dhcp_range: string; cidr: string };
  const [lo, hi] = net.dhcp_range.split('-');
  const mask = '255.255.255.0';
  if (!net.cidr.endsWith('/24')) throw new Error('the address server of this test assumes a /24');
  return [
    `dhcp-range=${lo},${hi},${mask},1h`,
    `dhcp-option=option:router,${net.gateway}`,
    ...(node.ip ? [`dhcp-host=${node.macs[0]},${node.ip}`] : []),
  ];
}

interface Outcome {
  tree: SiteTree;
  result?: BootResult;
  access: string;
  proxyLog: string;
  serverLog: string;
  error?: unknown;
}

// Debugging aid: HARVGEN_PROXY_CASES=bios,uefi boots only those (the other tests then fail: not started).
const only = process.env.HARVGEN_PROXY_CASES?.split(',');
const outcome = lazyBoots(
  CASES.filter((c) => !only || only.includes(c.id)),
  async () => {
    const kernel = await ensureKernel();
    return { kernel: kernel.vmlinuz, initrd: await buildInitramfs(kernel), trees: await proxyTrees() };
  },
  async (c, { kernel, initrd, trees: t }): Promise<Outcome> => {
    let tree = t[c.key];
    if (c.mutate) {
      tree = await copyTree(tree, c.id);
      const file = path.join(tree.dir, 'dnsmasq/harvgen.conf');
      const before = await readFile(file, 'utf8');
      const after = c.mutate(before);
      if (after === before) throw new Error(`mutation ${c.id} did not change ${file}`);
      await writeFile(file, after);
    }
    const node = tree.manifest.nodes.find((n) => n.hostname === c.hostname)!;
    const firmware = tree.manifest.boot.firmware;
    const out: Outcome = { tree, access: '', proxyLog: '', serverLog: '' };
    try {
      await withLab(
        tree,
        { kernel, initrd },
        async (lab) => {
          out.result = await bootVm({
            firmware,
            mac: node.macs[0]!,
            ns: lab.ns,
            tap: lab.tap,
            workDir: lab.workDir,
            timeoutMs: LIMIT_MS[firmware],
            stopWhen: (raw) => {
              const s = cleanSerial(raw);
              for (const fatal of [
                'Kernel panic',
                'No bootable device',
                'Shell> ',
                'HARVGEN-ERROR',
                'Nothing to boot',
                'No more network devices',
              ])
                if (s.includes(fatal)) return fatal;
              if (/^HARVGEN-DONE/m.test(s)) return 'done';
              if ((s.match(/iPXE initialising devices/g) ?? []).length >= 3) return 'iPXE loads iPXE again';
              return undefined;
            },
          });
          out.access = await lab.accessLog();
          out.proxyLog = lab.dnsmasqLog();
          out.serverLog = lab.addressServerLog();
        },
        { addressServer: addressServer(tree, node) },
      );
    } catch (err) {
      out.error = err;
    }
    return out;
  },
);

function report(o: Outcome): string {
  const serial = cleanSerial(o.result?.serial ?? '')
    .split('\n')
    .slice(-40)
    .join('\n');
  const tail = (s: string) => s.split('\n').slice(-40).join('\n');
  return `--- serial (tail) ---\n${serial}\n--- nginx ---\n${o.access}\n--- harvgen's dnsmasq (proxy) ---\n${tail(o.proxyLog)}\n--- the other DHCP server ---\n${tail(o.serverLog)}`;
}

/** What differs from a boot of the node's own script through the two servers. */
async function bootProblems(o: Outcome, hostname: string): Promise<string[]> {
  if (o.error) return [`lab failed: ${String(o.error)}`];
  const node = o.tree.manifest.nodes.find((n) => n.hostname === hostname)!;
  const s = cleanSerial(o.result?.serial ?? '');
  const p: string[] = [];
  const script = node.ipxe.find((x) => x.mac === node.macs[0])!;
  if (!new RegExp(`"GET ${new URL(script.url).pathname.replace(/[.]/g, '\\.')} [^"]*" 200`).test(o.access))
    p.push(`nginx never served ${script.path} (200)`);
  const cmdline = /^HARVGEN-CMDLINE: (.*)$/m.exec(s)?.[1] ?? '';
  if (!cmdline.includes(`harvester.install.config_url=${node.config!.url}`))
    p.push(`kernel command line without its own config_url: ${cmdline}`);
  if (!/^HARVGEN-FETCH-RC: 0$/m.test(s)) p.push('the guest did not fetch its config');
  const want = await readFile(path.join(o.tree.dir, node.config!.path), 'utf8');
  const b64 = /^HARVGEN-CONFIG-B64-BEGIN\n([\s\S]*?)^HARVGEN-CONFIG-B64-END/m.exec(s)?.[1];
  if (b64 === undefined || Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString('utf8') !== want) p.push('the fetched config differs');
  // The address came from the other server (its reservation), the boot file from the proxy.
  if (node.ip && !new RegExp(`DHCPACK\\(hgdhcp0\\) ${node.ip.replace(/\./g, '\\.')} ${node.macs[0]}`).test(o.serverLog))
    p.push(`the other server did not lease ${node.ip} to ${node.macs[0]}`);
  if (!/PXE\(hgbr0\) .*proxy/.test(o.proxyLog)) p.push("harvgen's dnsmasq gave no proxy answer");
  if (/DHCPOFFER\(hgbr0\)/.test(o.proxyLog)) p.push("harvgen's dnsmasq offered an address (it must not, as a proxy)");
  return p;
}

const ready = (): boolean =>
  requireProgram(
    'dnsmasq',
    'nginx',
    'qemu-system-x86_64',
    'ip',
    'busybox',
    '/usr/lib/ipxe/snponly.efi',
    '/usr/share/OVMF/OVMF_CODE_4M.fd',
  ) && requireRoot();

test('dnsmasq --test accepts the proxy form as generated (global.conf and harvgen.conf)', async () => {
  if (!requireProgram('dnsmasq')) return;
  for (const t of Object.values(await proxyTrees())) {
    const r = await dnsmasqTestTree(t.dir, tempDir('proxy-test'));
    assert.ok(r.code === 0 && /syntax check OK/.test(r.stdout + r.stderr), `${t.label}:\n${describe(r)}`);
  }
});

test("proxy DHCP, UEFI (OVMF PXE): firmware gets snponly.efi from the pxe-service, iPXE its boot.ipxe, the node boots its own script with the other server's address", async () => {
  if (!ready()) return;
  const o = await outcome('uefi');
  const problems = await bootProblems(o, 'hv-2');
  assert.equal(problems, [], report(o));
  assert.match(o.proxyLog, /tags: .*harvgen-location_x/);
  assert.match(o.proxyLog, /sent 11 snponly\.efi|snponly\.efi/);
});

test('proxy DHCP, BIOS (SeaBIOS + iPXE ROM): iPXE gets boot.ipxe from the proxy, the node boots its own script', async () => {
  if (!ready()) return;
  const o = await outcome('bios');
  assert.equal(await bootProblems(o, 'hv-b1'), [], report(o));
});

test('proxy DHCP with nginx.file_key, BIOS: the menu item of the MAC names its keyed script; boot.ipxe is never fetched', async () => {
  if (!ready()) return;
  const o = await outcome('bios-keyed');
  assert.equal(await bootProblems(o, 'hv-b1'), [], report(o));
  const node = o.tree.manifest.nodes.find((n) => n.hostname === 'hv-b1')!;
  assert.match(node.ipxe[0]!.path, /-[0-9a-f]{32}\.ipxe$/);
  assert.not.match(o.access, /"GET [^"]*\/boot\.ipxe /, report(o));
});

for (const [id, what, why] of [
  ['no-ipxe-tag', 'without the iPXE user-class tag', /^iPXE loads iPXE again$/],
  ['no-bios-ipxe-item', "without BIOS iPXE's menu item", /^(Nothing to boot|No more network devices)$/],
] as const) {
  test(`mutation: the proxy config ${what} boots nothing`, async () => {
    if (!ready()) return;
    const o = await outcome(id);
    if (o.error) throw o.error;
    const problems = await bootProblems(o, 'hv-b1');
    assert.ok(
      problems.some((p) => /never served|did not fetch/.test(p)),
      `the mutation booted anyway:\n${report(o)}`,
    );
    assert.match(o.result?.stoppedBecause ?? '(ran to its time limit)', why, report(o));
  });
}

test.run();
