// ARCHITECTURE.md "Adding a boot medium" and "Adding a DHCP server", proved by following each and
// nothing else: in a copy of the sources, one declaration file, its line in the folder's index
// (and, for a DHCP server with a file format of its own, that format's renderer), its name in the
// names' union, then `npm run gen:schema`. A site that names the new medium or DHCP server then
// builds with the copy's CLI: the image is made, served to the nodes' BMCs, mounted by the BMC
// script in the declared slot, planned by verify and counted by `status`; the DHCP server's file
// is written in place of every other server's, the rules ask for what it lacks, and explain and
// the next steps name it.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mediaLoaders } from './helpers/media.ts';
import { cli, copyWith, run } from './helpers/recipe.ts';

const DVD = `// A boot DVD: the boot ISO's layout, mounted in a BMC's virtual DVD drive only.
import type { Medium } from './types.ts';
import { ISO_LOADERS } from './iso.ts';

export const DVD: Medium = {
  name: 'dvd',
  description: "a boot DVD image (\`media/shared.boot.dvd\`), which the node's BMC mounts as a virtual DVD",
  image: {
    ext: 'dvd',
    layout: 'iso',
    loaders: ISO_LOADERS,
    slot: { mediaTypes: ['DVD'], bootTarget: 'Cd', name: 'virtual DVD drive' },
    title: 'boot DVD',
  },
  dhcp: false,
  tagsVlan: false,
  ipv6: false,
};
`;

test('a new boot medium through the recipe alone: its image made and listed, served to the BMCs, mounted in its slot, planned by verify, counted by status', async () => {
  const copy = copyWith('recipe-medium', {
    'src/derive/media/dvd.ts': DVD,
    'src/types/kinds.ts': [
      ["export type MediumName = 'network' | 'iso' | 'usb';", "export type MediumName = 'network' | 'iso' | 'usb' | 'dvd';"],
    ],
    'src/derive/media/list.ts': [
      ["import { USB } from './usb.ts';", "import { USB } from './usb.ts';\nimport { DVD } from './dvd.ts';"],
      ['{ network: NETWORK, iso: ISO, usb: USB }', '{ network: NETWORK, iso: ISO, usb: USB, dvd: DVD }'],
    ],
  });
  const site = join(copy, 'sites', 'recipe');
  mkdirSync(site, { recursive: true });
  const loaders = mediaLoaders(join(copy, 'loaders'));
  writeFileSync(
    join(site, 'site.yaml'),
    `site: recipe
harvester: { version: v1.4.1, artifacts: http://10.9.0.1/artifacts }
boot: { server: http://10.9.0.1, media_loaders: ${loaders} }
network: { cidr: 10.9.0.0/24, gateway: 10.9.0.1, dns: [10.9.0.1], dhcp_range: 10.9.0.100-10.9.0.199 }
cluster: { vip: 10.9.0.10, token: { env: RECIPE_TOKEN }, password: { env: RECIPE_PASSWORD } }
defaults: { medium: dvd, method: static, install: { device: /dev/vda } }
nodes:
  - { hostname: hv-1, mac: "52:54:00:09:00:01", ip: 10.9.0.11, role: create, bmc: { address: 10.9.0.201 } }
  - { hostname: hv-2, mac: "52:54:00:09:00:02", ip: 10.9.0.12, role: join, bmc: { address: 10.9.0.202 } }
`,
  );
  process.env.RECIPE_TOKEN = 'recipe-token-1234';
  process.env.RECIPE_PASSWORD = 'recipe-password';
  const out = join(copy, 'deploy');
  const build = cli(copy, ['build', site, '--out', out, '--deploy']);
  assert.is(build.code, 0, build.out + build.err);
  const tree = join(out, 'recipe');
  // The image: one for both nodes, an ISO 9660 volume, listed with its URL and who may fetch it.
  assert.equal(readdirSync(join(tree, 'media')), ['shared.boot.dvd']);
  const image = readFileSync(join(tree, 'media/shared.boot.dvd'));
  assert.is(image.toString('latin1', 32769, 32774), 'CD001', 'an ISO 9660 volume');
  assert.match(image.toString('latin1'), 'set harvgen_medium dvd\n');
  const manifest = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as {
    files: { path: string; url?: string; allow?: string[] }[];
  };
  assert.equal(manifest.files.find((f) => f.path === 'media/shared.boot.dvd')?.allow, ['10.9.0.201', '10.9.0.202']);
  const nginx = readFileSync(join(tree, 'nginx/harvgen.conf'), 'utf8');
  assert.match(nginx, /location = \/media\/shared\.boot\.dvd \{[\s\S]*?allow 10\.9\.0\.201;\s*allow 10\.9\.0\.202;\s*deny all;/);
  // The BMC script mounts it in a DVD drive and boots the CD target once.
  const bmc = readFileSync(join(tree, 'bmc/hv-1.sh'), 'utf8');
  assert.match(bmc, '\nmedium_url=http://10.9.0.1/media/shared.boot.dvd\n');
  assert.match(bmc, '\nmedium_types=DVD\n');
  assert.match(bmc, '\nmedium_boot=Cd\n');
  // verify's plan: served to the BMCs, a stranger refused.
  const plan = run(copy, [
    '--input-type=module',
    '-e',
    `import { readDeployManifest } from './src/verify/manifest.ts';
     import { planSite, serverFor } from './src/verify/plan.ts';
     const r = readDeployManifest(${JSON.stringify(tree)});
     console.log(JSON.stringify(planSite(r.manifest, serverFor('http://10.9.0.1')).map((c) => ({ path: c.rawPath, expect: c.expect }))));`,
  ]);
  assert.is(plan.code, 0, plan.err);
  const checks = JSON.parse(plan.out) as { path: string; expect: { kind: string; allow?: string[] } }[];
  assert.equal(checks.find((c) => c.path === '/media/shared.boot.dvd')?.expect, {
    ...checks.find((c) => c.path === '/media/shared.boot.dvd')!.expect,
    kind: 'served',
    // The BMCs' addresses, after the boot server's own (verify run there reads every file).
    allow: ['127.0.0.0/8', '::1', '10.9.0.1', '10.9.0.201', '10.9.0.202'],
  });
  // status: hv-2's BMC fetching the shared image is hv-2's download.
  const log = join(copy, 'access.log');
  writeFileSync(log, `10.9.0.202 - - [24/Nov/2026:10:00:00 +0000] "GET /media/shared.boot.dvd HTTP/1.1" 200 900 "-" "curl/8"\n`);
  const status = cli(copy, ['status', site, '--log', log, '--json']);
  const doc = JSON.parse(status.out) as { nodes: { hostname: string; medium?: { count: number; ip: string } }[] };
  assert.equal(doc.nodes.find((n) => n.hostname === 'hv-2')?.medium?.ip, '10.9.0.202', status.out + status.err);
  assert.is(doc.nodes.find((n) => n.hostname === 'hv-1')?.medium, undefined);
});

const UDHCPD = `// BusyBox udhcpd: one static lease per boot MAC, no TFTP of its own.
import type { DhcpServer } from './types.ts';

export const UDHCPD: DhcpServer = {
  name: 'udhcpd',
  title: 'udhcpd',
  description: 'a BusyBox udhcpd config, \`udhcpd/harvgen.conf\`',
  files: () => [{ path: 'udhcpd/harvgen.conf', format: 'udhcpd' }],
  reservations: () => 'udhcpd/harvgen.conf',
  hostFiles: false,
  tftp: false,
  proxy: false,
  ipv6: 'no',
  httpBootV6: false,
  vlanOnParent: false,
  sharedHost: false,
  nextStep: { file: 'udhcpd/harvgen.conf', verb: 'include into udhcpd.conf' },
};
`;

const UDHCPD_RENDER = `import type { SiteModel } from '../model/index.ts';
import { escapers } from '../formats/escape.ts';

/** udhcpd's static leases: one line per boot MAC with a fixed address (its words as dhcpd's, escaped). */
export function renderUdhcpd(model: SiteModel): string {
  const lines = ['# harvgen: udhcpd leases. Generated; do not edit.'];
  for (const n of model.nodes)
    for (const mac of n.macs) if (n.ip !== undefined) lines.push(\`static_lease \${escapers.dhcpdMac(mac)} \${escapers.dhcpdAddress(n.ip)}\`);
  return lines.join('\\n') + '\\n';
}
`;

test("a new DHCP server through the recipe alone: its file in place of every other server's, its needs checked, named by explain and the next steps", async () => {
  const copy = copyWith('recipe-dhcp', {
    'src/derive/dhcp-servers/udhcpd.ts': UDHCPD,
    'src/types/kinds.ts': [
      ["export type DhcpServerName = 'dnsmasq' | 'kea' | 'isc';", "export type DhcpServerName = 'dnsmasq' | 'kea' | 'isc' | 'udhcpd';"],
    ],
    'src/derive/dhcp-servers/types.ts': [
      [
        "export type DhcpFileFormat = 'dnsmasq' | 'dnsmasq-global' | 'kea4' | 'kea6' | 'dhcpd';",
        "export type DhcpFileFormat = 'dnsmasq' | 'dnsmasq-global' | 'kea4' | 'kea6' | 'dhcpd' | 'udhcpd';",
      ],
    ],
    'src/derive/dhcp-servers/index.ts': [
      ["import { KEA } from './kea.ts';", "import { KEA } from './kea.ts';\nimport { UDHCPD } from './udhcpd.ts';"],
      ['{ dnsmasq: DNSMASQ, kea: KEA, isc: ISC }', '{ dnsmasq: DNSMASQ, kea: KEA, isc: ISC, udhcpd: UDHCPD }'],
    ],
    'src/render/udhcpd.ts': UDHCPD_RENDER,
    'src/render/dhcp-servers.ts': [
      [
        "import { renderKea, renderKea6 } from './kea.ts';",
        "import { renderKea, renderKea6 } from './kea.ts';\nimport { renderUdhcpd } from './udhcpd.ts';",
      ],
      ['  dhcpd: renderDhcpd,\n', '  dhcpd: renderDhcpd,\n  udhcpd: renderUdhcpd,\n'],
    ],
  });
  const site = join(copy, 'sites', 'recipe');
  mkdirSync(site, { recursive: true });
  const yaml = (server: string) => `site: recipe
harvester: { version: v1.4.1, artifacts: http://10.9.0.1/artifacts }
boot: { server: ${server} }
network: { cidr: 10.9.0.0/24, gateway: 10.9.0.1, dns: [10.9.0.1], dhcp_range: 10.9.0.100-10.9.0.199 }
dhcp: { server: udhcpd }
cluster: { vip: 10.9.0.10, token: recipe-token-1234, password: recipe-password }
nodes:
  - { hostname: hv-1, mac: "52:54:00:09:00:01", ip: 10.9.0.11, role: create, install: { device: /dev/vda } }
`;
  writeFileSync(join(site, 'site.yaml'), yaml('http://10.9.0.1'));
  const out = join(copy, 'deploy');
  const build = cli(copy, ['build', site, '--out', out, '--deploy']);
  assert.is(build.code, 0, build.out + build.err);
  const tree = join(out, 'recipe');
  assert.is(readFileSync(join(tree, 'udhcpd/harvgen.conf'), 'utf8').split('\n')[1], 'static_lease 52:54:00:09:00:01 10.9.0.11');
  for (const other of ['dnsmasq', 'kea', 'dhcpd']) assert.not.ok(existsSync(join(tree, other)), `no ${other} file`);
  assert.match(build.out + build.err, 'include into udhcpd.conf udhcpd/harvgen.conf', `the next steps name it: ${build.out + build.err}`);
  const explain = cli(copy, ['explain', site, 'hv-1']);
  assert.match(explain.out, /dhcp\s+udhcpd: udhcpd\/harvgen\.conf/, explain.out + explain.err);
  // No TFTP server of its own: a boot server named by host name needs dhcp.next_server.
  writeFileSync(join(site, 'site.yaml'), yaml('http://boot.example'));
  const check = cli(copy, ['check', site]);
  assert.is(check.code, 1, check.out + check.err);
  assert.match(check.out + check.err, 'NET_NEXT_SERVER_MISSING');
  assert.match(check.out + check.err, 'dhcp.server udhcpd needs the address of the TFTP server');
});

test.run();
