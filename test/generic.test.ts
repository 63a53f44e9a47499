// Nodes that do not install Harvester (issue 12), as rendered: generic OS profiles with
// cloud-init NoCloud data, diskless iSCSI nodes, a site without any Harvester cluster, and the
// OpenCHAMI BSS export checked against schema/bss-bootparameters.schema.json.
// test/real/generic.test.ts boots them in QEMU.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { parse, stringify } from 'yaml';
import { check, compileSite } from '../src/index.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';
import { PAYLOADS } from './helpers/payloads.ts';

type Doc = Record<string, unknown>;
const repo = resolve(import.meta.dirname, '..');

const PROFILES = {
  rocky: {
    kernel: 'http://192.168.122.1/os/rocky/vmlinuz',
    initrds: ['http://192.168.122.1/os/rocky/initrd.img'],
    params: ['console=ttyS0,115200', 'ip=dhcp'],
    root: 'live:http://192.168.122.1/os/rocky/squashfs.img',
  },
  two: { kernel: 'http://10.9.9.9/k', initrds: ['http://10.9.9.9/a', 'http://10.9.9.9/b'], cloud_init: false },
};

/** location_x plus a generic node (`rancher`) and an iSCSI node (`store`), with changes. */
function site(change: (doc: Doc) => void = () => undefined, label = 'generic'): string {
  const doc = exampleSite() as Doc;
  doc.os_profiles = structuredClone(PROFILES);
  (doc.nodes as Doc[]).push(
    {
      hostname: 'rancher',
      mac: '52:54:00:aa:cc:01',
      ip: '192.168.122.31',
      os: 'rocky',
      cloud_init: { user_data: { users: [{ name: 'ops' }], runcmd: [['touch', '/x']] }, meta_data: { rack: 'r4' } },
    },
    { hostname: 'store', mac: '52:54:00:aa:cc:02', iscsi: { server: '192.168.122.5', target: 'iqn.2026-11.org.example:store' } },
  );
  change(doc);
  const dir = join(tempDir(label), 'site');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

async function files(dir: string): Promise<Map<string, string>> {
  const r = await compileSite(dir);
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.path} ${d.message}`),
    [],
  );
  return new Map(r.artifacts!.map((a) => [a.path, a.contents as string]));
}

test('a generic node boots its OS profile with the NoCloud seed of its MAC on the kernel line', async () => {
  const m = await files(site());
  const s = m.get('ipxe/52-54-00-aa-cc-01.ipxe')!;
  assert.match(
    s,
    /^kernel --name vmlinuz http:\/\/192\.168\.122\.1\/os\/rocky\/vmlinuz initrd=initrd0 console=ttyS0,115200 ip=dhcp root=live:http:\/\/192\.168\.122\.1\/os\/rocky\/squashfs\.img ds=nocloud;s=http:\/\/192\.168\.122\.1\/cloud-init\/52-54-00-aa-cc-01\/;dsmode=net BOOTIF=01-52-54-00-aa-cc-01 \|\| goto failed$/m,
  );
  assert.match(s, /^initrd --name initrd0 http:\/\/192\.168\.122\.1\/os\/rocky\/initrd\.img \|\| goto failed$/m);
  assert.not.match(s, /harvester/, 'nothing of the installer');
  assert.not.ok(m.has('harvester/rancher.yaml'), 'no Harvester config for a generic node');
  const manifest = JSON.parse(m.get('manifest.json')!) as { nodes: Doc[] };
  const node = manifest.nodes.find((n) => n.hostname === 'rancher')!;
  assert.equal([node.boot, node.os, node.role, node.config], ['os', 'rocky', undefined, undefined]);
});

test('cloud-init NoCloud files: user-data as #cloud-config, meta-data with instance-id and hostname, vendor-data; served by nginx', async () => {
  const m = await files(site());
  const dir = 'cloud-init/52-54-00-aa-cc-01/';
  const user = m.get(`${dir}user-data`)!;
  assert.ok(user.startsWith('#cloud-config\n'), user);
  assert.equal(parse(user), { users: [{ name: 'ops' }], runcmd: [['touch', '/x']] });
  assert.equal(parse(m.get(`${dir}meta-data`)!), { rack: 'r4', 'instance-id': 'location_x-rancher', 'local-hostname': 'rancher' });
  assert.is(m.get(`${dir}vendor-data`), '#cloud-config\n{}\n');
  // Each seed file in its own exact location, served to its node's address only (test/access.test.ts).
  for (const name of ['user-data', 'meta-data', 'vendor-data'])
    assert.match(
      m.get('nginx/harvgen.conf')!,
      new RegExp(`location = /${dir}${name} \\{[^]*?deny all;\\n\\s+alias /srv/harvgen/location_x/${dir}${name};`),
    );
});

test('user_data_file is served as written; a file that is not #cloud-config is refused at the field', async () => {
  const good = site((d) => ((d.nodes as Doc[])[3]!.cloud_init = { user_data_file: 'user-data.yaml' }), 'ud-file');
  const text = '#cloud-config\n# comment kept\nhostname: rancher\n';
  writeFileSync(join(good, 'user-data.yaml'), text);
  assert.is((await files(good)).get('cloud-init/52-54-00-aa-cc-01/user-data'), text);
  // Outside the repository (the nearest directory with .git), or absolute: refused, nothing published.
  const repoDir = join(tempDir('ud-repo'), 'repo');
  mkdirSync(join(repoDir, '.git'), { recursive: true });
  mkdirSync(join(repoDir, 'sites', 'x'), { recursive: true });
  writeFileSync(join(repoDir, '..', 'outside.cfg'), text);
  for (const outside of ['/etc/hostname', '../../../outside.cfg']) {
    const doc = parse(readFileSync(join(good, 'site.yaml'), 'utf8')) as Doc;
    (doc.nodes as Doc[])[3]!.cloud_init = { user_data_file: outside };
    writeFileSync(join(repoDir, 'sites', 'x', 'site.yaml'), stringify(doc));
    const o = await check({ sites: [join(repoDir, 'sites', 'x')] });
    const od = o.diagnostics.find((x) => x.code === 'CLOUD_INIT_INVALID');
    assert.ok(od && /absolute|outside/.test(od.message), `${outside}: ${JSON.stringify(o.diagnostics)}`);
  }
  writeFileSync(join(good, 'user-data.yaml'), 'hostname: rancher\n');
  const r = await check({ sites: [good] });
  const d = r.diagnostics.find((x) => x.code === 'CLOUD_INIT_INVALID');
  assert.ok(d && d.path === 'nodes[3].cloud_init.user_data_file' && /#cloud-config/.test(d.message), JSON.stringify(r.diagnostics));
});

test('an iSCSI node sets its initiator IQN and sanboots its target; it has no config and no cloud-init', async () => {
  const m = await files(site());
  const s = m.get('ipxe/52-54-00-aa-cc-02.ipxe')!;
  assert.match(s, /^set initiator-iqn iqn\.2010-04\.org\.ipxe:store$/m);
  assert.match(s, /^sanboot iscsi:192\.168\.122\.5::3260:1:iqn\.2026-11\.org\.example:store \|\| goto failed$/m);
  assert.not.ok([...m.keys()].some((p) => p.includes('52-54-00-aa-cc-02/') || p === 'harvester/store.yaml'));
  const node = (JSON.parse(m.get('manifest.json')!) as { nodes: Doc[] }).nodes.find((n) => n.hostname === 'store')!;
  assert.is(node.iscsi, 'iscsi:192.168.122.5::3260:1:iqn.2026-11.org.example:store');
});

test('an iSCSI portal outside the network, or a malformed IQN, is refused', async () => {
  const r = await check({
    sites: [site((d) => ((d.nodes as Doc[])[4]!.iscsi = { server: '10.1.1.1', target: 'iqn.2026-11.org.example:store' }), 'iscsi-out')],
  });
  assert.ok(r.diagnostics.some((d) => d.code === 'NODE_ISCSI_INVALID' && d.path === 'nodes[4].iscsi.server'));
  const iqn = await check({
    sites: [site((d) => ((d.nodes as Doc[])[4]!.iscsi = { server: '192.168.122.5', target: 'IQN.bad target' }), 'iscsi-iqn')],
  });
  assert.ok(
    iqn.diagnostics.some((d) => d.code === 'SCHEMA_PATTERN' && d.path === 'nodes[4].iscsi.target'),
    JSON.stringify(iqn.diagnostics),
  );
});

test('Harvester rules apply only to Harvester nodes; the first Harvester node creates even after a generic one', async () => {
  const dir = site((d) => {
    const nodes = d.nodes as Doc[];
    for (const n of nodes.slice(0, 3)) delete n.role;
    nodes.unshift(nodes.splice(3, 1)[0]!); // the generic node first
    delete (d.defaults as Doc).install; // generic and iSCSI nodes need no install device...
    for (const n of nodes) if (n.os === undefined && n.iscsi === undefined) n.install = { device: '/dev/vda' };
  });
  const r = await check({ sites: [dir] });
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  const m = await files(dir);
  const manifest = JSON.parse(m.get('manifest.json')!) as { nodes: Doc[] };
  assert.equal(
    manifest.nodes.map((n) => [n.hostname, n.role ?? '-']),
    [
      ['rancher', '-'],
      ['hv-1', 'create'],
      ['hv-2', 'join'],
      ['hv-3', 'join'],
      ['store', '-'],
    ],
  );
});

test('a site without any Harvester node needs no harvester: or cluster:, and gets no Harvester files', async () => {
  const dir = site((d) => {
    delete d.harvester;
    delete d.cluster;
    d.nodes = (d.nodes as Doc[]).slice(3);
  }, 'no-harvester');
  const m = await files(dir);
  const paths = [...m.keys()];
  assert.not.ok(
    paths.some((p) => p.startsWith('harvester/') || p.startsWith('systemd/') || p === 'artifacts/fetch.sh'),
    paths.join('\n'),
  );
  const manifest = JSON.parse(m.get('manifest.json')!) as Doc;
  assert.is(manifest.harvester_version, undefined);
  assert.not.match(m.get('nginx/harvgen.conf')!, /artifacts|harvester\//);
  // A Harvester node in such a site is refused at the node.
  const bad = site((d) => {
    delete d.cluster;
  }, 'no-cluster');
  const r = await check({ sites: [bad] });
  assert.ok(
    r.diagnostics.some((d) => d.code === 'CLUSTER_SECTION_MISSING' && d.path === 'nodes[0]'),
    JSON.stringify(r.diagnostics),
  );
});

test('bss.export: bss/bootparameters.json validates against the BSS schema: Harvester and single-initrd generic nodes, not iSCSI', async () => {
  const m = await files(
    site((d) => {
      d.bss = { export: true };
      (d.nodes as Doc[]).push({ hostname: 'two', mac: '52:54:00:aa:cc:03', os: 'two' });
    }),
  );
  const bss = JSON.parse(m.get('bss/bootparameters.json')!) as { macs: string[]; kernel: string; initrd: string; params: string }[];
  const schema = JSON.parse(readFileSync(join(repo, 'schema/bss-bootparameters.schema.json'), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  assert.ok(validate(bss), JSON.stringify(validate.errors));
  assert.equal(
    bss.map((b) => b.macs),
    [['52:54:00:aa:bb:01'], ['52:54:00:aa:bb:02'], ['52:54:00:aa:bb:03'], ['52:54:00:aa:cc:01']],
    'iSCSI and multi-initrd nodes are left out',
  );
  const rancher = bss[3]!;
  assert.equal([rancher.kernel, rancher.initrd], ['http://192.168.122.1/os/rocky/vmlinuz', 'http://192.168.122.1/os/rocky/initrd.img']);
  assert.match(
    rancher.params,
    /^initrd=initrd console=ttyS0,115200 ip=dhcp root=live:http:\/\/192\.168\.122\.1\/os\/rocky\/squashfs\.img ds=\S+ BOOTIF=01-52-54-00-aa-cc-01$/,
  );
  // The word BSS cuts comes first, once; BOOTIF stays (no tagged BSS release adds it).
  for (const b of bss) {
    assert.ok(b.params.startsWith('initrd=initrd '), b.params);
    assert.is(b.params.split(' ').filter((w) => w.startsWith('initrd=')).length, 1, b.params);
    assert.match(b.params, / BOOTIF=01-/);
  }
  assert.match(bss[0]!.params, /harvester\.install\.config_url=http:\/\/192\.168\.122\.1\/harvester\/hv-1\.yaml/);
  // Without bss.export there is no file.
  assert.not.ok((await files(site((d) => delete d.bss))).has('bss/bootparameters.json'));
});

test('an unknown OS profile is refused at the node with a suggestion; reserved params at the profile', async () => {
  const r = await check({ sites: [site((d) => ((d.nodes as Doc[])[3]!.os = 'roky'))] });
  const d = r.diagnostics.find((x) => x.code === 'OS_PROFILE_UNKNOWN');
  assert.ok(d && d.path === 'nodes[3].os' && d.hint?.includes('"rocky"'), JSON.stringify(r.diagnostics));
  const p = await check({ sites: [site((d) => ((d.os_profiles as Record<string, Doc>).rocky!.params = ['ds=nocloud']))] });
  assert.ok(p.diagnostics.some((x) => x.code === 'OS_PARAM_RESERVED' && x.path === 'os_profiles.rocky.params[0]'));
});

test('hostile values in profile and iSCSI fields are refused at the field, never written', async () => {
  const fields: [string, (d: Doc, v: string) => void][] = [
    ['os_profiles.rocky.kernel', (d, v) => ((d.os_profiles as Record<string, Doc>).rocky!.kernel = v)],
    ['os_profiles.rocky.initrds[0]', (d, v) => ((d.os_profiles as Record<string, Doc>).rocky!.initrds = [v])],
    ['os_profiles.rocky.params[0]', (d, v) => ((d.os_profiles as Record<string, Doc>).rocky!.params = [v])],
    ['os_profiles.rocky.root', (d, v) => ((d.os_profiles as Record<string, Doc>).rocky!.root = v)],
    ['nodes[4].iscsi.server', (d, v) => ((d.nodes as Doc[])[4]!.iscsi = { server: v, target: 'iqn.2026-11.org.example:store' })],
    ['nodes[4].iscsi.target', (d, v) => ((d.nodes as Doc[])[4]!.iscsi = { server: '192.168.122.5', target: v })],
    [
      'nodes[4].iscsi.initiator',
      (d, v) => ((d.nodes as Doc[])[4]!.iscsi = { server: '192.168.122.5', target: 'iqn.2026-11.org.example:s', initiator: v }),
    ],
  ];
  for (const [path, set] of fields) {
    for (const payload of PAYLOADS) {
      const r = await check({ sites: [site((d) => set(d, payload), 'hostile-generic')] });
      const where = `${path} = ${JSON.stringify(payload)}`;
      assert.not.ok(r.ok, `check accepted ${where}`);
      assert.ok(
        r.diagnostics.some((d) => d.severity === 'error' && d.path === path && d.line !== undefined),
        `${where}: ${r.diagnostics.map((d) => `${d.code} ${d.path}`).join(', ')}`,
      );
    }
  }
});

test('arm64: DHCP client architecture 11 and HTTP boot 19 get the arm64 iPXE; Harvester arm64 files; UEFI kernel line on any site', async () => {
  const m = await files(
    site((d) => {
      d.boot = { ...(d.boot as Doc), firmware: 'bios', http_boot: true, arm64_loader: 'snp.efi' };
      (d.nodes as Doc[])[1]!.arch = 'arm64';
      (d.nodes as Doc[])[3]!.arch = 'arm64';
    }, 'arm64'),
  );
  const dns = m.get('dnsmasq/harvgen.conf')!;
  assert.match(dns, /^dhcp-match=set:efiarm64,option:client-arch,11$/m);
  assert.match(dns, /^dhcp-boot=tag:harvgen-location_x,tag:!ipxe,tag:efiarm64,snp\.efi$/m);
  assert.match(dns, /^dhcp-vendorclass=set:efihttparm64,HTTPClient:Arch:00019$/m);
  assert.match(dns, /^dhcp-boot=tag:harvgen-location_x,tag:!ipxe,tag:efihttparm64,http:\/\/192\.168\.122\.1\/snp\.efi$/m);
  const hv2 = m.get('ipxe/52-54-00-aa-bb-02.ipxe')!;
  assert.match(
    hv2,
    /kernel --name vmlinuz http:\/\/192\.168\.122\.1\/artifacts\/v1\.4\.1\/harvester-v1\.4\.1-vmlinuz-arm64 initrd=initrd /,
  );
  assert.match(hv2, /root=live:\S+harvester-v1\.4\.1-rootfs-arm64\.squashfs/);
  assert.not.match(m.get('ipxe/52-54-00-aa-bb-01.ipxe')!, /initrd=initrd|arm64/, 'the x86 BIOS node keeps its BIOS kernel line');
  assert.match(m.get('ipxe/52-54-00-aa-cc-01.ipxe')!, / initrd=initrd0 /, 'an arm64 generic node names its initrd (UEFI)');
  const cfg = parse(m.get('harvester/hv-2.yaml')!) as { install: { iso_url: string } };
  assert.is(cfg.install.iso_url, 'http://192.168.122.1/artifacts/v1.4.1/harvester-v1.4.1-arm64.iso');
  assert.match(m.get('artifacts/fetch.sh')!, /harvester-v1\.4\.1-arm64\.sha512 harvester-v1\.4\.1-vmlinuz-arm64 /);
  assert.match(m.get('artifacts/fetch.sh')!, /harvester-v1\.4\.1-amd64\.sha512 /, 'the x86 release is still fetched');
  assert.match(m.get('nginx/harvgen.conf')!, /location = \/snp\.efi \{/);
  const dom = m.get('libvirt/hv-2.xml')!;
  assert.match(dom, /<os firmware='efi'>\n\s+<type arch='aarch64' machine='virt'>hvm<\/type>/);
  assert.match(dom, /<gic version='3'\/>/);
  // An x86-64 lab host (the default) cannot run an aarch64 guest under KVM: it is emulated.
  assert.match(dom, /^<domain type='qemu'>$/m);
  assert.match(dom, /<cpu mode='maximum' check='none'\/>/);
  assert.match(m.get('libvirt/hv-1.xml')!, /^<domain type='kvm'>$/m, 'x86-64 nodes keep KVM');
  const onArm = await files(
    site((d) => {
      (d.nodes as Doc[])[1]!.arch = 'arm64';
      (d as Doc).lab = { ...((d as Doc).lab as Doc), host_arch: 'arm64' };
    }, 'arm64-host'),
  );
  assert.match(onArm.get('libvirt/hv-2.xml')!, /^<domain type='kvm'>$/m, 'an arm64 host runs arm64 nodes under KVM');
  assert.match(onArm.get('libvirt/hv-2.xml')!, /<cpu mode='host-passthrough'/);
  assert.match(onArm.get('libvirt/hv-1.xml')!, /^<domain type='qemu'>$/m, 'and emulates the x86-64 ones');
  assert.not.match(m.get('dnsmasq/harvgen.conf')!.replace(/efiarm64|efihttparm64/g, ''), /arm64/);
  // Without arm64 nodes nothing of it is written.
  assert.not.match((await files(site())).get('dnsmasq/harvgen.conf')!, /client-arch,11|arm64/);
});

test('arm64 Harvester needs v1.3 or newer', async () => {
  const r = await check({
    sites: [
      site((d) => {
        (d.harvester as Doc).version = 'v1.2.2';
        (d.harvester as Doc).artifacts = 'http://192.168.122.1/artifacts/v1.2.2';
        (d.nodes as Doc[])[1]!.arch = 'arm64';
      }, 'arm64-old'),
    ],
  });
  assert.ok(
    r.diagnostics.some((d) => d.code === 'HARVESTER_KEY_TOO_NEW' && d.path === 'nodes[1].arch'),
    JSON.stringify(r.diagnostics.map((d) => `${d.code} ${d.path}`)),
  );
});

test('review fixes: the iSCSI LUN in hex, install-once on a generic node probes the disk, local skips the target', async () => {
  const m = await files(
    site((d) => {
      const nodes = d.nodes as Doc[];
      nodes[4]!.iscsi = { server: '192.168.122.5', target: 'iqn.2026-11.org.example:store', lun: 10 };
      nodes[3]!.state = 'install-once';
      nodes.push({
        hostname: 'store2',
        mac: '52:54:00:aa:cc:09',
        state: 'local',
        iscsi: { server: '192.168.122.5', target: 'iqn.2026-11.org.example:s2' },
      });
    }, 'review'),
  );
  assert.match(m.get('ipxe/52-54-00-aa-cc-02.ipxe')!, /^sanboot iscsi:192\.168\.122\.5::3260:a:iqn\.2026-11\.org\.example:store /m);
  const os = m.get('ipxe/52-54-00-aa-cc-01.ipxe')!;
  assert.ok(
    os.indexOf('sanboot --no-describe --drive 0x80') > 0 && os.indexOf('sanboot --no-describe') < os.indexOf('kernel --name vmlinuz'),
    os,
  );
  assert.match(os, /file:\/\/COS_GRUB\/EFI\/BOOT\/bootx64\.efi/);
  const local = m.get('ipxe/52-54-00-aa-cc-09.ipxe')!;
  assert.not.match(local, /iscsi:/);
  assert.match(local, /^exit 1$/m);
});

test('review fixes: user_data_file with YAML tags or complex keys, and binaries behind symbolic links, are refused', async () => {
  for (const [text, why] of [
    ['#cloud-config\nx: !!python/object/apply:os.system [id]\n', /tag/],
    ['#cloud-config\n? [a, b]\n: v\n', /complex/],
  ] as const) {
    const dir = site((d) => ((d.nodes as Doc[])[3]!.cloud_init = { user_data_file: 'ud.cfg' }), 'ud-tags');
    writeFileSync(join(dir, 'ud.cfg'), text);
    const r = await check({ sites: [dir] });
    const d = r.diagnostics.find((x) => x.code === 'CLOUD_INIT_INVALID');
    assert.ok(d && why.test(d.message), `${JSON.stringify(text)}: ${JSON.stringify(r.diagnostics)}`);
  }
  // Inside the repository (here the site directory: no .git, not in sites/) a link is not followed...
  const dir = site((d) => ((d.boot as Doc).ipxe_binaries = 'bin'), 'bin-link');
  mkdirSync(join(dir, 'bin'));
  symlinkSync('/etc/passwd', join(dir, 'bin', 'undionly.kpxe'));
  writeFileSync(join(dir, 'bin', 'snponly.efi'), 'MZ');
  const r = await check({ sites: [dir] });
  const d = r.diagnostics.find((x) => x.code === 'BOOT_IPXE_BINARY_INVALID');
  assert.ok(d && /undionly\.kpxe is a symbolic link/.test(d.message), JSON.stringify(r.diagnostics));
  // ...in a system directory outside it (Debian's /usr/lib/ipxe/ipxe.efi links to /boot) it is.
  const sys = join(tempDir('bin-sys'), 'ipxe');
  mkdirSync(sys);
  writeFileSync(join(sys, 'real.efi'), 'MZ real');
  symlinkSync(join(sys, 'real.efi'), join(sys, 'snponly.efi'));
  const ok = await check({ sites: [site((x) => ((x.boot as Doc).ipxe_binaries = sys), 'bin-sys-site')] });
  assert.not.ok(
    ok.diagnostics.some((x) => x.code.startsWith('BOOT_IPXE')),
    JSON.stringify(ok.diagnostics),
  );
});

test('review fixes: an OS profile named like an Object property is still unknown when not defined', async () => {
  const r = await check({ sites: [site((d) => ((d.nodes as Doc[])[3]!.os = 'constructor'), 'proto')] });
  const d = r.diagnostics.find((x) => x.code === 'OS_PROFILE_UNKNOWN');
  assert.ok(d && d.message.includes('"constructor"'), JSON.stringify(r.diagnostics));
});

test.run();
