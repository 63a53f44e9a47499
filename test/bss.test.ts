// bss/bootparameters.json means what the tree means (issue 18, item 5). BSS's parameter building
// (OpenCHAMI/bss cmd/boot-script-service/default_api.go, buildParams and buildBootScript, v1.32.2
// and e4894b0) and its storage (etcd/mem: one record per SMD node, boot_data.go Store; Postgres:
// one row per MAC, internal/postgres/bootparams.go Set) are written out here as documented, and
// applied to every exported entry of every site: what BSS would serve to each MAC must be the
// kernel line of that MAC's script in harvgen's own tree, plus only what BSS always appends.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { compileSite } from '../src/index.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

interface BootParams {
  macs: string[];
  kernel: string;
  initrd: string;
  params: string;
}
type Version = 'v1.32.2' | 'e4894b0';

/** BSS's checkParam: append `name+value` unless a space-separated word already starts with `name`. */
function checkParam(params: string, name: string, value: string): string {
  if (value === '' || params.split(' ').some((w) => w.startsWith(name))) return params;
  return `${params} ${name}${value}`;
}

/**
 * BSS's buildParams for one request (`?mac=`), as documented: the stored params, then xname=, nid=,
 * the referral token (etcd), BOOTIF= (e4894b0 only), ds=; then, with an initrd, the first
 * occurrence of `initrd` anywhere is cut up to the next space (a panic, HTTP 500, when no space
 * follows) and `initrd=initrd ` goes in front.
 */
function buildParams(bp: BootParams, req: { mac: string; xname: string; nid: string; token?: string; version: Version }): string {
  let p = bp.params;
  p = checkParam(p, 'xname=', req.xname);
  p = checkParam(p, 'nid=', req.nid);
  if (req.token) p = checkParam(p, 'bss_referral_token=', req.token);
  if (req.version === 'e4894b0') p = checkParam(p, 'BOOTIF=', `01-${req.mac.replace(/:/g, '-')}`);
  p = checkParam(p, 'ds=', 'nocloud-net;s=http://bss.example:8081/');
  if (bp.initrd !== '') {
    const start = p.indexOf('initrd');
    if (start >= 0) {
      const end = p.indexOf(' ', start);
      if (end < 0) throw new Error('BSS panics: index out of range (HTTP 500)');
      p = p.slice(0, start) + p.slice(end);
    }
    p = `initrd=initrd ${p}`;
  }
  return p.replace(/^ +| +$/g, '');
}

/** What each backend answers for a MAC after the file was PUT entry by entry, in file order. */
function store(
  entries: BootParams[],
  backend: 'etcd' | 'postgres',
  nodeOf: (mac: string) => string,
): (mac: string) => BootParams | undefined {
  const byKey = new Map<string, BootParams>();
  // etcd/mem: the key of an SMD-known MAC is its node's xname (all MACs of a node share it);
  // Postgres: one row per MAC (lower case). A later PUT replaces the record.
  const key = (mac: string) => (backend === 'etcd' ? nodeOf(mac) : mac.toLowerCase());
  for (const e of entries) for (const mac of e.macs) byKey.set(key(mac), e);
  return (mac) => byKey.get(key(mac));
}

/** The iPXE `kernel` line of a script: its URL and arguments, without `--name` and the `|| goto`. */
function kernelLine(script: string): { kernel: string; args: string[] } {
  const m = /^kernel --name \S+ (\S+) (.*?) \|\| goto failed$/m.exec(script);
  if (!m) throw new Error(`no kernel line in:\n${script}`);
  return { kernel: m[1]!, args: m[2]!.split(' ') };
}

/** What BSS always adds that the tree does not have (xname, nid, its token, its ds= when the tree has none). */
function withoutBssTail(args: string[], tree: string[]): string[] {
  const own = (w: string) => tree.some((t) => t.split('=')[0] === w.split('=')[0]);
  return args.filter((w) => !/^(xname|nid|bss_referral_token)=/.test(w) && !(w.startsWith('ds=') && !own(w)));
}

type Doc = Record<string, unknown>;

async function compileWith(change: (doc: Doc) => void) {
  const doc = exampleSite() as Doc;
  doc.bss = { export: true };
  change(doc);
  const dir = join(tempDir('bss'), 'site');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  const r = await compileSite(dir);
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`),
    [],
  );
  const files = new Map(r.artifacts!.map((a) => [a.path, a.contents as string]));
  return { r, files, entries: JSON.parse(files.get('bss/bootparameters.json')!) as BootParams[] };
}

/** Every problem BSS would cause for the exported entries: served line vs the tree's, per MAC, backend and version. */
function problems(files: Map<string, string>, entries: BootParams[], nodeOfMac: Map<string, string>): string[] {
  const out: string[] = [];
  const manifest = JSON.parse(files.get('manifest.json')!) as { nodes: { hostname: string; state: string; macs: string[] }[] };
  for (const backend of ['etcd', 'postgres'] as const) {
    const lookup = store(entries, backend, (mac) => `x1000c0s0b0n${nodeOfMac.get(mac)}`);
    for (const version of ['v1.32.2', 'e4894b0'] as const) {
      for (const e of entries) {
        for (const mac of e.macs) {
          const where = `${backend} ${version} ${mac}`;
          const node = manifest.nodes.find((n) => n.macs.includes(mac))!;
          // BSS serves an unconditional install: only a node whose tree script is one may be exported.
          if (node.state !== 'install') out.push(`${where}: node ${node.hostname} is ${node.state}, BSS would install on every boot`);
          const got = lookup(mac)!;
          let served: string;
          try {
            served = buildParams(got, {
              mac,
              xname: `x1000c0s0b0n${nodeOfMac.get(mac)}`,
              nid: '7',
              token: backend === 'etcd' ? 'tok' : undefined,
              version,
            });
          } catch (err) {
            out.push(`${where}: ${(err as Error).message}`);
            continue;
          }
          const tree = kernelLine(files.get(`ipxe/${mac.replace(/:/g, '-')}.ipxe`)!);
          if (got.kernel !== tree.kernel) out.push(`${where}: kernel ${got.kernel}, the tree boots ${tree.kernel}`);
          // The tree names the initrd only on UEFI (BSS always does), and generic nodes' is initrd0.
          const want = tree.args.map((a) => (a.startsWith('initrd=') ? 'initrd=initrd' : a));
          if (!want.includes('initrd=initrd')) want.unshift('initrd=initrd');
          let have = withoutBssTail(served.split(' ').filter(Boolean), tree.args);
          // A node with several MACs shares one entry: BOOTIF is BSS's (e4894b0) or absent (v1.32.2).
          if (e.macs.length > 1) {
            const bootif = have.filter((w) => w.startsWith('BOOTIF='));
            const expected = version === 'e4894b0' ? [`BOOTIF=01-${mac.replace(/:/g, '-')}`] : [];
            if (bootif.join() !== expected.join())
              out.push(`${where}: ${bootif.join() || 'no BOOTIF'}, expected ${expected.join() || 'none'}`);
            have = have.filter((w) => !w.startsWith('BOOTIF='));
            want.splice(0, want.length, ...want.filter((w) => !w.startsWith('BOOTIF=')));
          }
          if (have.join(' ') !== want.join(' '))
            out.push(`${where}: BSS serves\n    ${have.join(' ')}\n  the tree boots\n    ${want.join(' ')}`);
        }
      }
    }
  }
  return out;
}

/** MAC -> node index, for the SMD xname of each node. */
function nodesOf(files: Map<string, string>): Map<string, string> {
  const manifest = JSON.parse(files.get('manifest.json')!) as { nodes: { macs: string[] }[] };
  return new Map(manifest.nodes.flatMap((n, i) => n.macs.map((m) => [m, String(i)] as const)));
}

const VARIANTS: [string, (d: Doc) => void][] = [
  ['location_x as shipped (UEFI, DHCP)', () => undefined],
  ['a node named hv-initrd (its config URL holds the text BSS cuts)', (d) => ((d.nodes as Doc[])[1]!.hostname = 'hv-initrd')],
  [
    'BIOS, static addresses and a kernel_arg with initrd in it',
    (d) => {
      (d.boot as Doc).firmware = 'bios';
      (d.defaults as Doc).method = 'static';
      (d.nodes as Doc[])[2]!.kernel_args = ['rd.driver.pre=initrdfix'];
    },
  ],
  [
    'a generic OS node with cloud-init (its own ds= seed stops the one BSS adds)',
    (d) => {
      d.os_profiles = {
        rocky: { kernel: 'http://192.168.122.1/os/k', initrds: ['http://192.168.122.1/os/initrd.img'], params: ['ip=dhcp'] },
      };
      (d.nodes as Doc[]).push({ hostname: 'gen', mac: '52:54:00:aa:cc:01', os: 'rocky', cloud_init: { user_data: { a: 1 } } });
    },
  ],
  [
    'a node with two boot MACs and no NIC named per MAC',
    (d) => {
      const n = (d.nodes as Doc[])[0]!;
      delete n.mac;
      n.macs = ['52:54:00:aa:bb:01', '52:54:00:aa:bb:11'];
    },
  ],
];

for (const [name, change] of VARIANTS) {
  test(`BSS serves each exported MAC the tree's kernel line (etcd and Postgres, v1.32.2 and e4894b0): ${name}`, async () => {
    const { files, entries } = await compileWith(change);
    assert.ok(entries.length >= 3, `only ${entries.length} entries exported`);
    assert.equal(problems(files, entries, nodesOf(files)), []);
  });
}

test('mutation: the previous export (no leading initrd=initrd, BOOTIF dropped) is caught: hv-initrd loses its config URL', async () => {
  const { files, entries } = await compileWith((d) => ((d.nodes as Doc[])[1]!.hostname = 'hv-initrd'));
  const old = entries.map((e) => ({
    ...e,
    params: e.params
      .split(' ')
      .filter((w) => !/^(initrd|BOOTIF)=/.test(w))
      .join(' '),
  }));
  const p = problems(files, old, nodesOf(files));
  assert.ok(
    p.some((x) => /config_url=http:\/\/192\.168\.122\.1\/harvester\/hv-$/m.test(x)),
    `the truncated config URL went unnoticed:\n${p.join('\n')}`,
  );
});

test('mutation: an install-once node exported anyway is caught; the export leaves it out with BSS_NODE_NOT_EXPORTED', async () => {
  // hv-3 installs once; hv-1 (which created the cluster: it joins now) and hv-2 install on every boot.
  const { r, files, entries } = await compileWith((d) => {
    (d.cluster as Doc).created = true;
    delete (d.nodes as Doc[])[0]!.role;
    (d.nodes as Doc[])[2]!.state = 'install-once';
  });
  assert.equal(
    entries.map((e) => e.macs[0]),
    ['52:54:00:aa:bb:01', '52:54:00:aa:bb:02'],
  );
  const d = r.diagnostics.find((x) => x.code === 'BSS_NODE_NOT_EXPORTED');
  assert.ok(d && d.severity === 'warning' && d.path === 'nodes[2].state' && /install-once/.test(d.message), JSON.stringify(r.diagnostics));
  // Put it back in as the old export did: the check notices.
  const forced = [
    ...entries,
    { macs: ['52:54:00:aa:bb:03'], kernel: entries[0]!.kernel, initrd: entries[0]!.initrd, params: entries[0]!.params },
  ];
  assert.ok(problems(files, forced, nodesOf(files)).some((x) => /is install-once, BSS would install on every boot/.test(x)));
});

test('mutation: per-MAC entries of a two-MAC node collapse in the etcd backend and are caught; the export writes one entry', async () => {
  const { files, entries } = await compileWith((d) => {
    const n = (d.nodes as Doc[])[0]!;
    delete n.mac;
    n.macs = ['52:54:00:aa:bb:01', '52:54:00:aa:bb:11'];
    n.interfaces = [
      { name: 'enp1s0', mac: '52:54:00:aa:bb:01' },
      { name: 'enp2s0', mac: '52:54:00:aa:bb:11' },
    ];
  });
  // Each MAC's line pins its own NIC, so no single entry fits both: the node is left out...
  assert.not.ok(entries.some((e) => e.macs.includes('52:54:00:aa:bb:01')));
  // ...and per-MAC entries (harvgen's earlier export) would boot one NIC with the other's pin in etcd.
  const perMac = ['52:54:00:aa:bb:01', '52:54:00:aa:bb:11'].map((mac) => {
    const line = kernelLine(files.get(`ipxe/${mac.replace(/:/g, '-')}.ipxe`)!);
    return {
      macs: [mac],
      kernel: line.kernel,
      initrd: entries[0]!.initrd,
      params: ['initrd=initrd', ...line.args.filter((a) => !a.startsWith('initrd='))].join(' '),
    };
  });
  const p = problems(files, [...perMac, ...entries], nodesOf(files));
  assert.ok(
    p.some((x) => x.startsWith('etcd ') && x.includes('52:54:00:aa:bb:01')),
    p.join('\n'),
  );
  assert.not.ok(
    p.some((x) => x.startsWith('postgres ')),
    `Postgres keeps one row per MAC:\n${p.join('\n')}`,
  );
});

test('an s3:// root leaves the node out (BSS presigns it; a single quote, which Postgres would paste into SQL, cannot pass the value kinds)', async () => {
  const { r, entries } = await compileWith((d) => {
    d.os_profiles = { s3os: { kernel: 'http://192.168.122.1/k', initrds: ['http://192.168.122.1/i'], root: 'live:s3://bucket/rootfs' } };
    (d.nodes as Doc[]).push({ hostname: 'gen', mac: '52:54:00:aa:cc:09', os: 's3os' });
  });
  assert.not.ok(entries.some((e) => e.macs.includes('52:54:00:aa:cc:09')));
  assert.ok(r.diagnostics.some((x) => x.code === 'BSS_NODE_NOT_EXPORTED' && /s3:\/\//.test(x.message)));
});

test('Secure Boot nodes are left out (BSS has no shim step); a two-MAC generic node shares its first seed', async () => {
  const sb = await compileWith((d) => ((d.boot as Doc).secure_boot = {}));
  assert.equal(sb.entries, []);
  assert.ok(sb.r.diagnostics.some((x) => x.code === 'BSS_NODE_NOT_EXPORTED' && x.path === 'boot.secure_boot'));
  const gen = await compileWith((d) => {
    d.os_profiles = { rocky: { kernel: 'http://192.168.122.1/os/k', initrds: ['http://192.168.122.1/os/initrd.img'] } };
    (d.nodes as Doc[]).push({ hostname: 'gen', macs: ['52:54:00:aa:cc:01', '52:54:00:aa:cc:02'], os: 'rocky' });
  });
  const e = gen.entries.find((x) => x.macs.includes('52:54:00:aa:cc:02'));
  assert.ok(e, JSON.stringify(gen.r.diagnostics.map((x) => x.message)));
  assert.equal(e.macs, ['52:54:00:aa:cc:01', '52:54:00:aa:cc:02']);
  assert.match(e.params, / ds=nocloud;s=http:\/\/192\.168\.122\.1\/cloud-init\/52-54-00-aa-cc-01\/;dsmode=net$/);
  assert.equal(
    problems(gen.files, gen.entries, nodesOf(gen.files)).filter((p) => !/BOOTIF|ds=/.test(p)),
    [],
  );
});

test('buildParams as written here matches the vectors of BSS run on its own code (research note, 2026-11)', () => {
  const bp = (params: string, initrd = 'http://x/i'): BootParams => ({ macs: [], kernel: 'http://x/k', initrd, params });
  const req = { mac: '52:54:00:aa:bb:01', xname: 'x0c0s0b0n0', nid: '1', version: 'e4894b0' as Version };
  assert.is(
    buildParams(bp('ip=dhcp harvester.install.config_url=http://s/harvester/initrd-node.yaml console=tty1'), req),
    'initrd=initrd ip=dhcp harvester.install.config_url=http://s/harvester/ console=tty1 xname=x0c0s0b0n0 nid=1 BOOTIF=01-52-54-00-aa-bb-01 ds=nocloud-net;s=http://bss.example:8081/',
  );
  assert.is(
    buildParams(bp('initrd=initrd ip=dhcp BOOTIF=01-52-54-00-aa-bb-01 c=http://s/initrd-a.yaml'), { ...req, token: 'tok' }),
    'initrd=initrd  ip=dhcp BOOTIF=01-52-54-00-aa-bb-01 c=http://s/initrd-a.yaml xname=x0c0s0b0n0 nid=1 bss_referral_token=tok ds=nocloud-net;s=http://bss.example:8081/',
  );
  assert.throws(
    () => buildParams(bp('ip=dhcp ds=nocloud;s=http://x/ xname=a nid=2 c=http://s/initrd-a.yaml'), { ...req, mac: '', version: 'v1.32.2' }),
    /panics/,
  );
});

test.run();
