// An attacker who controls one inventory field: every value that reaches a generated file is
// either refused by `check` with a positioned diagnostic, or lands escaped and inert. And when
// validation is bypassed (a forged model), the escapers still refuse or neutralise the value
// (RENDER_UNSAFE_VALUE, nothing written). The real programs read the results in
// test/real/hostile.test.ts.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { check, compileSite, type SiteModel } from '../src/index.ts';
import { NO_SOURCE } from '../src/load/index.ts';
import { renderSite } from '../src/render/index.ts';
import { tempDir } from './helpers/tmp.ts';
import { exampleSite } from './helpers/example.ts';
import { PAYLOADS } from './helpers/payloads.ts';

const repo = resolve(import.meta.dirname, '..');
const base = exampleSite() as Record<string, unknown>;

/** Every inventory field whose value reaches a generated file verbatim, as [path, where to set it]. */
const FIELDS: (string | number)[][] = [
  ['site'],
  ['harvester', 'artifacts'],
  ['harvester', 'iso_url'],
  ['boot', 'server'],
  ['boot', 'kernel_args', 0],
  ['boot', 'console', 0],
  ['network', 'domain'],
  ['defaults', 'kernel_args', 0],
  ['defaults', 'interfaces', 0, 'name'],
  ['nodes', 0, 'hostname'],
  ['nodes', 0, 'kernel_args', 0],
  ['lab', 'network_name'],
  ['lab', 'bridge'],
  ['lab', 'disk_dir'],
  ['lab', 'tftp_root'],
  ['nginx', 'listen'],
  ['nginx', 'root'],
  ['nginx', 'artifacts_dir'],
  ['nginx', 'access_log'],
  ['dnsmasq', 'interface'],
  ['dnsmasq', 'tftp_root'],
  ['forward', 'listen_address'],
  ['network', 'cidr'],
  ['network', 'gateway'],
  ['network', 'dns', 0],
  ['network', 'dhcp_range'],
  ['cluster', 'vip'],
  ['cluster', 'vip_hw_addr'],
  ['defaults', 'gateway'],
  ['defaults', 'netmask'],
  ['defaults', 'dns', 0],
  ['nodes', 0, 'ip'],
  ['nodes', 0, 'mac'],
  ['harvester', 'version'],
  ['boot', 'installed_marker', 'volume'],
  ['boot', 'installed_marker', 'file'],
  ['boot', 'secure_boot', 'shim'],
  ['boot', 'secure_boot', 'loader'],
];

function withValue(path: (string | number)[], value: string): Record<string, unknown> {
  const doc = structuredClone(base);
  let at: Record<string | number, unknown> = doc;
  for (const [i, key] of path.entries()) {
    if (i === path.length - 1) at[key] = value;
    else {
      at[key] ??= typeof path[i + 1] === 'number' ? [] : {};
      at = at[key] as Record<string | number, unknown>;
    }
  }
  return doc;
}

const display = (p: (string | number)[]) => p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');

test('check refuses every payload in every field that reaches a file, at that field, never as an internal error', async () => {
  const dir = tempDir('hostile');
  let cases = 0;
  for (const field of FIELDS) {
    for (const payload of PAYLOADS) {
      writeFileSync(join(dir, 'site.yaml'), stringify(withValue(field, payload)));
      const r = await check({ sites: [dir] });
      cases++;
      const where = `${display(field)} = ${JSON.stringify(payload)}`;
      assert.not.ok(r.ok, `check accepted ${where}`);
      assert.not.ok(
        r.diagnostics.some((d) => d.code === 'INTERNAL_ERROR' || d.code === 'RENDER_UNSAFE_VALUE'),
        `${where}: ${r.diagnostics.map((d) => d.code).join(', ')}`,
      );
      const at = r.diagnostics.find((d) => d.path === display(field) && d.severity === 'error');
      assert.ok(at, `${where}: no error at ${display(field)}; got ${r.diagnostics.map((d) => `${d.code} ${d.path}`).join(', ')}`);
      assert.ok(at.line !== undefined && at.col !== undefined && at.hint, `${where}: the error has no position or hint`);
    }
  }
  assert.ok(cases >= 300, `${cases} cases`);
});

test('a URL with an impossible port is a positioned SCHEMA_PATTERN, not an internal error', async () => {
  const dir = tempDir('hostile-url');
  for (const field of [
    ['boot', 'server'],
    ['harvester', 'artifacts'],
  ]) {
    writeFileSync(join(dir, 'site.yaml'), stringify(withValue(field, 'http://10.0.0.1:99999')));
    const r = await check({ sites: [dir] });
    assert.equal(
      r.diagnostics.map((d) => `${d.code} ${d.path}`),
      [`SCHEMA_PATTERN ${display(field)}`],
    );
    assert.ok(r.diagnostics[0]!.line !== undefined);
  }
});

test('a value that validation allows but a format cannot hold verbatim lands escaped: `--` in XML comments', async () => {
  const dir = tempDir('hostile-xml');
  const doc = withValue(['lab', 'network_name'], 'lab--net-');
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  const r = await compileSite(dir);
  assert.equal(r.diagnostics, []);
  const xml = r.artifacts!.find((a) => a.path === 'libvirt/network.xml')!.contents as string;
  for (const m of xml.matchAll(/<!--([\s\S]*?)-->/g)) assert.not.ok(m[1]!.includes('--') || m[1]!.endsWith('-'), m[1]);
  assert.ok(xml.includes('<name>lab--net-</name>'), 'the element text keeps the real name');
});

// Forged models: validation bypassed, so only the escapers stand between the value and the file.
async function model(): Promise<SiteModel> {
  const r = await compileSite(join(repo, 'sites/location_x'));
  return structuredClone(r.model!) as SiteModel;
}

type Forge = (m: Mutable<SiteModel>) => void;
type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

const REFUSED: [string, string, Forge][] = [
  ['nginx', 'nginx/harvgen.conf', (m) => void (m.nginx.root = '/srv/$document_root')],
  ['nginx', 'nginx/harvgen.conf', (m) => void (m.nginx.listen = '127.0.0.1:80;\n location /leak/ { alias /etc/; }')],
  ['nginx', 'nginx/harvgen.conf', (m) => void ((m.nodes[0] as { ip?: string }).ip = '192.168.122.11; allow all')],
  ['nginx', 'nginx/locations.conf', (m) => void ((m.nodes[0] as { ip?: string }).ip = '192.168.122.0/16')],
  ['nginx', 'nginx/harvgen.conf', (m) => void (m.nginx.realIp = { from: ['0.0.0.0/0; allow all'], header: 'X-Real-IP' })],
  ['nginx', 'nginx/harvgen.conf', (m) => void (m.nginx.realIp = { from: ['10.0.0.2'], header: 'X-Real-IP;\n    allow all' })],
  ['dnsmasq', 'dnsmasq/harvgen.conf', (m) => void (m.dnsmasq.interface = 'eth0,lo')],
  ['dnsmasq', 'dnsmasq/harvgen.conf', (m) => void (m.network.domain = 'x\ndhcp-script=/bin/sh')],
  ['dnsmasq', 'dnsmasq/global.conf', (m) => void (m.dnsmasq.tftpRoot = '/srv/tftp #x')],
  ['dnsmasq', 'dnsmasq/global.conf', (m) => void (m.dnsmasq.hostsDir = '/etc/h\ndhcp-script=/bin/sh')],
  ['dnsmasq', 'dnsmasq/hosts/', (m) => void ((m.nodes[0] as { ip?: string }).ip = '192.168.122.11,set:known')],
  ['systemd', 'systemd/', (m) => void (m.forward.listenAddress = '0.0.0.0,fork\nExecStartPre=/bin/sh -c id')],
  ['ipxe', 'ipxe/', (m) => void (m.boot.kernelArgs = ['a', '||', 'shell'])],
  ['ipxe', 'ipxe/', (m) => void (m.boot.kernelArgs = ['x${ip}'])],
  ['ipxe', 'boot.ipxe', (m) => void (m.boot.server = 'http://10.0.0.1 ; shell')],
  ['sh', 'libvirt/define.sh', (m) => void (m.lab.diskDir = '/x\nreboot')],
  ['xml', 'libvirt/network.xml', (m) => void (m.lab.networkName = 'x\u0000y')],
];

for (const [format, file, forge] of REFUSED) {
  test(`${format}: a forged value its file cannot hold is RENDER_UNSAFE_VALUE and nothing is rendered for it (${file})`, async () => {
    const m = await model();
    forge(m as Mutable<SiteModel>);
    const r = renderSite(m, NO_SOURCE);
    const d = r.diagnostics.find((x) => x.code === 'RENDER_UNSAFE_VALUE' && x.message.startsWith(file));
    assert.ok(d, `no RENDER_UNSAFE_VALUE for ${file}; diagnostics: ${JSON.stringify(r.diagnostics)}`);
    assert.match(d.hint ?? '', /bug/);
  });
}

test('nginx: a forged path with ; { } # and a space lands as one quoted argument', async () => {
  const m = (await model()) as Mutable<SiteModel>;
  m.nginx.root = '/srv/a b;{ } #x';
  const r = renderSite(m, NO_SOURCE);
  assert.equal(r.diagnostics, []);
  const conf = r.artifacts.find((a) => a.path === 'nginx/harvgen.conf')!.contents as string;
  assert.ok(conf.includes('    root "/srv/a b;{ } #x";\n'), conf);
});

test('sh: a forged path with quotes and $(...) lands single-quoted in define.sh', async () => {
  const m = (await model()) as Mutable<SiteModel>;
  m.lab.diskDir = "/x'$(touch /tmp/pwned)'";
  const r = renderSite(m, NO_SOURCE);
  assert.equal(r.diagnostics, []);
  const sh = r.artifacts.find((a) => a.path === 'libvirt/define.sh')!.contents as string;
  assert.ok(sh.includes(`mkdir -p '/x'\\''$(touch /tmp/pwned)'\\'''\n`), sh);
});

test.run();
