// The boot lifecycle and every way into the tree (issue 11), as rendered: install-once and
// local scripts, the unknown-machine policies, UEFI HTTP boot, copied iPXE binaries, Secure
// Boot, embed.ipxe and the OCI launch script. test/real/lifecycle.test.ts boots them in QEMU.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { build, check, compileSite } from '../src/index.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

type Doc = Record<string, Record<string, unknown>>;

/** location_x with changes, written to a fresh site directory. */
function site(change: (doc: Doc) => void, label = 'life'): string {
  const doc = exampleSite();
  change(doc);
  const dir = join(tempDir(label), 'site');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

async function files(dir: string): Promise<Map<string, string | Uint8Array>> {
  const r = await compileSite(dir);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors, [], 'no errors');
  return new Map(r.artifacts!.map((a) => [a.path, a.contents]));
}

const text = (m: Map<string, string | Uint8Array>, p: string): string => {
  const v = m.get(p);
  assert.type(v, 'string', `${p} is rendered as text`);
  return v as string;
};

const nodes = (doc: Doc) => doc.nodes as unknown as Record<string, unknown>[];
/** `cluster.created`: every node joins (so a node that keeps its install beside an installing one is no second cluster). */
const joined = (doc: Doc) => {
  doc.cluster!.created = true;
  delete nodes(doc)[0]!.role;
};

test('state: install-once probes the disk (BIOS sanboot, UEFI marker file) before the installer', async () => {
  const m = await files(site((d) => (nodes(d)[0]!.state = 'install-once')));
  const s = text(m, 'ipxe/52-54-00-aa-bb-01.ipxe');
  const order = [
    'iseq ${platform} pcbios && goto harvgen_bios ||',
    'imgfetch --name harvgen-marker file://COS_GRUB/EFI/BOOT/bootx64.efi && goto harvgen_installed ||',
    'goto harvgen_install',
    ':harvgen_bios',
    'sanboot --no-describe --drive 0x80 ||',
    'goto harvgen_install',
    ':harvgen_installed',
    'exit 1',
    ':harvgen_install',
    'kernel --name vmlinuz ',
  ].reduce<number[]>((at, l) => [...at, s.indexOf(l, (at[at.length - 1] ?? -1) + 1)], []);
  assert.ok(
    order.every((i) => i >= 0),
    `probe lines missing or out of order (${order}):\n${s}`,
  );
  assert.match(s, /harvester\.install\.config_url=http:\/\/192\.168\.122\.1\/harvester\/hv-1\.yaml/);
  // The other nodes keep installing on every network boot.
  assert.not.match(text(m, 'ipxe/52-54-00-aa-bb-02.ipxe'), /harvgen-marker|sanboot/);
});

test('installed_marker names the volume label and file of the installed system', async () => {
  const m = await files(
    site((d) => {
      nodes(d)[0]!.state = 'install-once';
      d.boot!.installed_marker = { volume: 'EFI', file: '/EFI/sles/shim.efi' };
    }),
  );
  assert.match(
    text(m, 'ipxe/52-54-00-aa-bb-01.ipxe'),
    /^imgfetch --name harvgen-marker file:\/\/EFI\/EFI\/sles\/shim\.efi && goto harvgen_installed \|\|$/m,
  );
});

test('state: local boots the disk on BIOS (sanboot) and returns to the firmware on UEFI, whatever the site firmware', async () => {
  // The cluster exists (hv-2 is installed), so hv-1 reinstalling would join, not create again.
  const m = await files(site((d) => (joined(d), (nodes(d)[1]!.state = 'local'))));
  const s = text(m, 'ipxe/52-54-00-aa-bb-02.ipxe');
  assert.match(s, /^iseq \$\{platform\} pcbios && sanboot --no-describe --drive 0x80 \|\|\nexit 1\n$/m);
  assert.not.match(s, /kernel|initrd|config_url/);
});

test('boot.unknown: wait (default) installs nothing; local boots the disk; join installs once as a joining node', async () => {
  const wait = await files(site(() => undefined));
  assert.match(text(wait, 'unknown.ipxe'), /nothing will be installed/);
  assert.not.ok(wait.has('unknown/join.yaml'));
  assert.is(JSON.parse(text(wait, 'manifest.json')).boot.unknown, 'wait');

  const local = await files(site((d) => (d.boot!.unknown = 'local')));
  const ls = text(local, 'unknown.ipxe');
  assert.match(ls, /sanboot --no-describe --drive 0x80/);
  assert.match(ls, /^exit 1$/m);
  assert.not.match(ls, /kernel|config_url/);

  const join = await files(
    site((d) => {
      d.boot!.unknown = 'join';
      d.boot!.uefi_loader = 'snponly.efi';
    }),
  );
  const js = text(join, 'unknown.ipxe');
  assert.match(
    js,
    /imgfetch --name harvgen-marker file:\/\/COS_GRUB\/EFI\/BOOT\/bootx64\.efi/,
    'an installed unknown machine is not wiped again',
  );
  assert.match(
    js,
    / harvester\.install\.config_url=http:\/\/192\.168\.122\.1\/unknown\/join\.yaml BOOTIF=01-\$\{mac:hexhyp\} \|\| goto failed$/m,
  );
  const cfg = parse(text(join, 'unknown/join.yaml')) as {
    install: Record<string, unknown>;
    os: Record<string, unknown>;
    server_url: string;
  };
  assert.is(cfg.install.mode, 'join');
  assert.is(cfg.server_url, 'https://192.168.122.120:443');
  assert.is(cfg.install.device, '/dev/vda');
  assert.equal((cfg.install.management_interface as { interfaces: unknown }).interfaces, [{ name: 'enp1s0' }]);
  assert.not.ok('hostname' in cfg.os, 'the installer names an unknown machine');
  const manifest = JSON.parse(text(join, 'manifest.json'));
  assert.is(manifest.boot.unknown, 'join');
  assert.is(manifest.boot.unknown_config_url, 'http://192.168.122.1/unknown/join.yaml');
  assert.match(
    text(join, 'nginx/harvgen.conf'),
    /location = \/unknown\/join\.yaml \{\n\s+types \{ \}\n[^}]*no-store[^}]*alias \/srv\/harvgen\/location_x\/unknown\/join\.yaml;/,
  );
});

test('boot.unknown_wait sets the pause of unknown.ipxe (default 60 s) and nothing else', async () => {
  const wait = text(await files(site(() => undefined)), 'unknown.ipxe');
  assert.match(wait, /^echo harvgen: leaving network boot in 60 s\.\nsleep 60\nexit 1$/m);
  const short = await files(site((d) => (d.boot!.unknown_wait = 7)));
  const shortText = text(short, 'unknown.ipxe');
  assert.match(shortText, /^echo harvgen: leaving network boot in 7 s\.\nsleep 7\nexit 1$/m);
  assert.is(shortText.replace(/\b7\b/g, '60'), wait, 'only the pause changed');
  // The node scripts keep their own pauses (retries, giving up), which boot.unknown_wait does not set.
  const plain = await files(site(() => undefined));
  for (const [path, contents] of short) if (path.startsWith('ipxe/')) assert.is(contents, plain.get(path), path);
  for (const bad of [0, 3601, 'soon']) {
    const r = await check({ sites: [site((d) => (d.boot!.unknown_wait = bad))] });
    assert.ok(
      r.diagnostics.some((d) => d.severity === 'error' && d.file?.endsWith('site.yaml')),
      `unknown_wait ${String(bad)} is refused: ${JSON.stringify(r.diagnostics)}`,
    );
  }
});

test('boot.unknown: join installs only the arch of defaults: another architecture (iPXE ${buildarch}) installs nothing', async () => {
  const x86 = text(await files(site((d) => (d.boot!.unknown = 'join'))), 'unknown.ipxe');
  const guard = x86.indexOf('iseq ${buildarch} arm64 && goto harvgen_other_arch ||');
  assert.ok(guard > 0 && guard < x86.indexOf('kernel --name vmlinuz'), `x86-64 join: the arch guard comes before the installer:\n${x86}`);
  assert.match(x86, /:harvgen_other_arch\n(echo [^\n]+\n){2}sleep 60\nexit 1\n$/);
  assert.match(x86, /harvester-v1\.4\.1-vmlinuz-amd64/);
  const arm = await files(
    site((d) => {
      d.boot!.unknown = 'join';
      d.defaults!.arch = 'arm64';
    }),
  );
  const as = text(arm, 'unknown.ipxe');
  const armGuard = as.indexOf('iseq ${buildarch} arm64 || goto harvgen_other_arch');
  assert.ok(armGuard > 0 && armGuard < as.indexOf('kernel --name vmlinuz'), `arm64 join: the arch guard comes first:\n${as}`);
  assert.match(as, /harvester-v1\.4\.1-vmlinuz-arm64/);
  assert.match(text(arm, 'unknown/join.yaml'), /harvester-v1\.4\.1-arm64\.iso/);
  // A release without arm64 files is refused for arm64 unknown machines.
  const old = await compileSite(
    site((d) => {
      d.boot!.unknown = 'join';
      d.defaults!.arch = 'arm64';
      (d.harvester as Record<string, unknown>).version = 'v1.2.2';
      (d.harvester as Record<string, unknown>).artifacts = 'http://192.168.122.1/artifacts/v1.2.2';
    }),
  );
  assert.ok(
    old.diagnostics.some((x) => x.code === 'HARVESTER_KEY_TOO_NEW' && /unknown: join/.test(x.message)),
    old.diagnostics.map((x) => `${x.code} ${x.message}`).join('\n'),
  );
});

test('BOOT_EXIT_MAY_HANG covers unknown.ipxe under every policy (wait too) when the loader is ipxe.efi; the default loader is snponly.efi', async () => {
  const r = await compileSite(site((d) => (d.boot!.uefi_loader = 'ipxe.efi')));
  const w = r.diagnostics.filter((x) => x.code === 'BOOT_EXIT_MAY_HANG');
  assert.is(w.length, 1);
  assert.match(w[0]!.message, /unknown\.ipxe \(boot\.unknown: wait\)/);
  const def = await compileSite(site(() => {}));
  assert.equal(
    def.diagnostics.map((x) => x.code),
    [],
  );
  assert.match(def.artifacts!.find((a) => a.path === 'dnsmasq/harvgen.conf')!.contents as string, /snponly\.efi/);
});

test('boot.unknown: join without a device or a NIC name in defaults is refused at boot.unknown', async () => {
  const dir = site((d) => {
    d.boot!.unknown = 'join';
    d.boot!.uefi_loader = 'snponly.efi';
    delete (d.defaults as Record<string, unknown>).interfaces;
  });
  const r = await check({ sites: [dir] });
  const d = r.diagnostics.find((x) => x.code === 'BOOT_UNKNOWN_JOIN_INCOMPLETE');
  assert.ok(d && d.path === 'boot.unknown' && d.line !== undefined, JSON.stringify(r.diagnostics));
  assert.not.ok(r.ok);
});

test('UEFI local boots with ipxe.efi warn (BOOT_EXIT_MAY_HANG); snponly.efi does not', async () => {
  const warn = await check({
    sites: [site((d) => (joined(d), (nodes(d)[2]!.state = 'local'), (d.boot!.uefi_loader = 'ipxe.efi')))],
  });
  const w = warn.diagnostics.find((x) => x.code === 'BOOT_EXIT_MAY_HANG');
  assert.ok(w && w.severity === 'warning' && w.path === 'nodes[2].state', JSON.stringify(warn.diagnostics));
  const ok = await check({
    sites: [
      site((d) => {
        joined(d);
        nodes(d)[2]!.state = 'local';
        d.boot!.uefi_loader = 'snponly.efi';
      }),
    ],
  });
  assert.not.ok(ok.diagnostics.some((x) => x.code === 'BOOT_EXIT_MAY_HANG'));
});

test('http_boot answers HTTPClient in dnsmasq and the libvirt network with a URL nginx serves', async () => {
  const m = await files(site((d) => (d.boot!.http_boot = true)));
  const dns = text(m, 'dnsmasq/harvgen.conf');
  assert.match(dns, /^dhcp-vendorclass=set:efihttp,HTTPClient:Arch:00016$/m);
  assert.match(dns, /^dhcp-option-force=tag:harvgen-location_x,tag:efihttp,60,HTTPClient$/m);
  assert.match(dns, /^dhcp-boot=tag:harvgen-location_x,tag:!ipxe,tag:efihttp,http:\/\/192\.168\.122\.1\/snponly\.efi$/m);
  const net = text(m, 'libvirt/network.xml');
  assert.match(net, /<dnsmasq:option value='dhcp-boot=tag:!ipxe,tag:efihttp,http:\/\/192\.168\.122\.1\/snponly\.efi'\/>/);
  assert.match(text(m, 'nginx/harvgen.conf'), /location = \/snponly\.efi \{\n\s+alias \/srv\/harvgen\/location_x\/snponly\.efi;/);
  assert.is(JSON.parse(text(m, 'manifest.json')).boot.http_boot_url, 'http://192.168.122.1/snponly.efi');
  const off = await files(site(() => undefined));
  assert.not.match(text(off, 'dnsmasq/harvgen.conf'), /HTTPClient/);
  assert.not.match(text(off, 'nginx/harvgen.conf'), /snponly\.efi/);
});

test('ipxe_binaries: the deploy tree copies the binaries byte for byte, the committed tree lists them in the manifest and holds none, and a change rebuilds', async () => {
  const bin = join(tempDir('ipxe-bin'), 'ipxe');
  mkdirSync(bin);
  const efi = Buffer.concat([Buffer.from('MZ'), Buffer.from([0, 1, 2, 255, 254, 0x0a, 0x0d])]);
  writeFileSync(join(bin, 'snponly.efi'), efi);
  writeFileSync(join(bin, 'undionly.kpxe'), Buffer.from([0xeb, 0x3c, 0x90, 0]));
  const dir = site((d) => {
    d.boot!.http_boot = true;
    d.boot!.ipxe_binaries = bin;
    // From files: a secret from the environment keeps a site from ever being up to date.
    d.cluster!.token = { file: 'token' };
    d.cluster!.password = { file: 'password' };
  });
  writeFileSync(join(dir, 'token'), 'SecretToken.123');
  writeFileSync(join(dir, 'password'), 'SecretPassword.123');
  const out = join(tempDir('ipxe-bin-out'), 'out');
  // Inputs changed within RACY_MS of a build are never trusted (src/load/stamps.ts): let them settle.
  const settle = () => new Promise((r) => setTimeout(r, 150));
  await settle();
  const committed = join(tempDir('ipxe-bin-committed'), 'out');
  const r0 = await build({ sites: [dir], outDir: committed });
  assert.ok(r0.ok, JSON.stringify(r0.diagnostics));
  assert.not.ok(existsSync(join(committed, 'location_x/snponly.efi')), 'no binary in the committed tree');
  const listed = (JSON.parse(readFileSync(join(committed, 'location_x/manifest.json'), 'utf8')) as { files: { path: string }[] }).files;
  assert.ok(
    listed.some((f) => f.path === 'snponly.efi'),
    'the committed manifest lists it',
  );
  const r1 = await build({ sites: [dir], outDir: out, secrets: 'filled' });
  assert.ok(r1.ok, JSON.stringify(r1.diagnostics));
  const tree = join(out, 'location_x');
  assert.ok(readFileSync(join(tree, 'snponly.efi')).equals(efi), 'snponly.efi copied byte for byte');
  assert.ok(readFileSync(join(tree, 'undionly.kpxe')).equals(Buffer.from([0xeb, 0x3c, 0x90, 0])));
  const manifest = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as {
    files: { path: string; size: number; url?: string }[];
  };
  const entry = manifest.files.find((f) => f.path === 'snponly.efi');
  assert.equal([entry?.size, entry?.url], [efi.length, 'http://192.168.122.1/snponly.efi']);
  const nginx = readFileSync(join(tree, 'nginx/harvgen.conf'), 'utf8');
  assert.match(nginx, /location = \/undionly\.kpxe \{/);
  assert.not.match(nginx, /ipxe\.efi/, 'only binaries that exist are served');
  // No change: up to date. A new binary: compiled again and copied.
  const r2 = await build({ sites: [dir], outDir: out, secrets: 'filled' });
  assert.ok(r2.sites[0]!.upToDate, 'nothing changed');
  const changed = Buffer.concat([efi, Buffer.from('v2')]);
  writeFileSync(join(bin, 'snponly.efi'), changed);
  await settle();
  const r3 = await build({ sites: [dir], outDir: out, secrets: 'filled' });
  assert.not.ok(r3.sites[0]!.upToDate, 'a changed binary is noticed');
  assert.ok(readFileSync(join(tree, 'snponly.efi')).equals(changed));
});

test('ipxe_binaries without the loader the firmware fetches is refused at the field', async () => {
  const bin = join(tempDir('ipxe-bin-missing'), 'ipxe');
  mkdirSync(bin);
  writeFileSync(join(bin, 'undionly.kpxe'), 'x');
  const r = await check({ sites: [site((d) => (d.boot!.ipxe_binaries = bin))] });
  const d = r.diagnostics.find((x) => x.code === 'BOOT_IPXE_BINARY_MISSING');
  assert.ok(d && d.path === 'boot.ipxe_binaries' && d.message.includes('snponly.efi'), JSON.stringify(r.diagnostics));
});

test('secure_boot: firmware loads the shim (TFTP and HTTP), lab domains boot with Secure Boot on', async () => {
  const m = await files(
    site((d) => {
      d.boot!.http_boot = true;
      d.boot!.secure_boot = { shim: 'shimx64.efi', loader: 'grubx64.efi' };
    }),
  );
  const dns = text(m, 'dnsmasq/harvgen.conf');
  assert.match(dns, /^dhcp-boot=tag:harvgen-location_x,tag:!ipxe,tag:efi64,shimx64\.efi$/m);
  assert.match(dns, /^dhcp-boot=tag:harvgen-location_x,tag:!ipxe,tag:efihttp,http:\/\/192\.168\.122\.1\/shimx64\.efi$/m);
  assert.match(dns, /signed iPXE\s+# stored next to it as grubx64\.efi/);
  const nginx = text(m, 'nginx/harvgen.conf');
  assert.match(nginx, /location = \/grubx64\.efi \{/, 'the shim fetches its loader over HTTP too');
  assert.match(nginx, /location = \/shimx64\.efi \{/);
  const dom = text(m, 'libvirt/hv-1.xml');
  assert.match(dom, /<feature enabled='yes' name='secure-boot'\/>/);
  assert.match(dom, /<feature enabled='yes' name='enrolled-keys'\/>/);
  assert.match(dom, /<smm state='on'\/>/);
  const bios = await check({
    sites: [
      site((d) => {
        d.boot!.firmware = 'bios';
        d.boot!.secure_boot = {};
      }),
    ],
  });
  assert.ok(bios.diagnostics.some((x) => x.code === 'BOOT_SECURE_BOOT_INVALID'));
});

test("secure_boot: the node scripts hand the SUSE-signed installer kernel to the release's shim, which fetch.sh takes out of the ISO and nginx serves", async () => {
  const m = await files(site((d) => (d.boot!.secure_boot = {})));
  const s = text(m, 'ipxe/52-54-00-aa-bb-01.ipxe');
  const shimUrl = 'http://192.168.122.1/artifacts/v1.4.1/harvester-v1.4.1-shim-amd64.efi';
  const lines = s.split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  assert.ok(at(/^initrd --name initrd /) < at(/^shim /) && at(/^shim /) < at(/^boot /), `shim after the initrd, before boot:\n${s}`);
  assert.ok(lines.includes(`shim ${shimUrl} || goto failed`), s);
  const fetch = text(m, 'artifacts/fetch.sh');
  assert.match(fetch, /xorriso -osirrox on -indev "\$target\/\$iso" -extract \/EFI\/BOOT\/bootx64\.efi/);
  assert.match(fetch, /^shim "\$target" harvester-v1\.4\.1-amd64\.iso harvester-v1\.4\.1-shim-amd64\.efi$/m);
  // The shim is taken only after the ISO's SHA-512 was checked.
  assert.ok(fetch.indexOf('\nfetch v1.4.1 ') < fetch.indexOf('\nshim "$target"'));
  assert.match(text(m, 'nginx/harvgen.conf'), /location = \/artifacts\/v1\.4\.1\/harvester-v1\.4\.1-shim-amd64\.efi \{/);
  assert.is(JSON.parse(text(m, 'manifest.json')).artifacts.shim, shimUrl);
  // Defaults: iPXE's own signed shim for the site's loader (it loads the name its own starts with).
  const dns = text(m, 'dnsmasq/harvgen.conf');
  assert.match(dns, /^dhcp-boot=tag:harvgen-location_x,tag:!ipxe,tag:efi64,snponly-shimx64\.efi$/m);
  // A retry frees the shim image with the kernel and initrd (iPXE names it after the URL).
  assert.match(s, /^imgfree harvester-v1\.4\.1-shim-amd64\.efi \|\|$/m);
  // A loader named without a shim gets iPXE's shim for that loader.
  const named = text(await files(site((d) => (d.boot!.secure_boot = { loader: 'ipxe.efi' }))), 'dnsmasq/harvgen.conf');
  assert.match(named, /^dhcp-boot=tag:harvgen-location_x,tag:!ipxe,tag:efi64,ipxe-shimx64\.efi$/m);
  // Release files served elsewhere hold no shim (Harvester publishes none): refused at harvester.artifacts.
  const away = await check({
    sites: [
      site((d) => {
        d.boot!.secure_boot = {};
        d.harvester!.artifacts = 'https://releases.rancher.com/harvester/v1.4.1';
      }),
    ],
  });
  const e = away.diagnostics.find((x) => x.code === 'BOOT_SECURE_BOOT_INVALID');
  assert.ok(e && e.path === 'harvester.artifacts' && /only inside its ISO/.test(e.message), JSON.stringify(away.diagnostics));
  // Without Secure Boot: no shim line, no shim fetched or served.
  const off = await files(site(() => undefined));
  assert.not.match(text(off, 'ipxe/52-54-00-aa-bb-01.ipxe'), /^shim /m);
  assert.not.match(text(off, 'artifacts/fetch.sh'), /xorriso/);
  assert.not.match(text(off, 'nginx/harvgen.conf'), /shim/);
});

test('secure_boot: a generic OS boots through its profile shim; a profile without one is BOOT_SECURE_BOOT_NO_SHIM', async () => {
  const withOs = (shim?: string) =>
    site((d) => {
      d.boot!.secure_boot = {};
      (d as Record<string, unknown>).os_profiles = {
        deb: { kernel: 'http://192.168.122.1/os/k', initrds: ['http://192.168.122.1/os/i'], ...(shim ? { shim } : {}) },
      };
      nodes(d).push({ hostname: 'gen', mac: '52:54:00:aa:cc:01', os: 'deb' });
    });
  const m = await files(withOs('http://192.168.122.1/os/shimx64.efi'));
  assert.match(text(m, 'ipxe/52-54-00-aa-cc-01.ipxe'), /^shim http:\/\/192\.168\.122\.1\/os\/shimx64\.efi \|\| goto failed$/m);
  const r = await check({ sites: [withOs()] });
  const w = r.diagnostics.find((x) => x.code === 'BOOT_SECURE_BOOT_NO_SHIM');
  assert.ok(w && w.severity === 'warning' && w.path === 'os_profiles.deb', JSON.stringify(r.diagnostics));
});

test('embed.ipxe: static address for the NICs of static nodes, DHCP on the others, retry forever', async () => {
  const m = await files(
    site((d) => {
      nodes(d)[1]!.method = 'static';
      nodes(d)[1]!.macs = ['52:54:00:aa:bb:02', '52:54:00:aa:bc:02'];
      delete nodes(d)[1]!.mac;
    }),
  );
  const s = text(m, 'embed.ipxe');
  assert.ok(s.startsWith('#!ipxe\n'));
  assert.match(s, /^iseq \$\{net\$\{harvgen_n\}\/mac\} 52:54:00:aa:bb:02 && goto harvgen_static_0 \|\|$/m);
  assert.match(s, /^iseq \$\{net\$\{harvgen_n\}\/mac\} 52:54:00:aa:bc:02 && goto harvgen_static_1 \|\|$/m);
  assert.not.match(s, /52:54:00:aa:bb:01/, 'a DHCP node gets no static block');
  assert.match(
    s,
    /:harvgen_static_0\n[^\n]*\nifopen net\$\{harvgen_n\} \|\|\nset net\$\{harvgen_n\}\/ip 192\.168\.122\.12\nset net\$\{harvgen_n\}\/netmask 255\.255\.255\.0\nset net\$\{harvgen_n\}\/gateway 192\.168\.122\.1\nset net\$\{harvgen_n\}\/dns 192\.168\.122\.1\n/,
  );
  assert.match(s, /^dhcp net\$\{harvgen_n\} && goto harvgen_fetch \|\|$/m);
  assert.match(s, /^imgfetch --name harvgen-boot http:\/\/192\.168\.122\.1\/boot\.ipxe && goto harvgen_run \|\|$/m);
  assert.match(s, /:harvgen_pause\n[^\n]*\nsleep 5\nset harvgen_n:int32 0\ngoto harvgen_nic\n/, 'retries forever with a pause');
});

test('oci/launch.ipxe chains the entry script on every boot and retries forever', async () => {
  const s = text(await files(site(() => undefined)), 'oci/launch.ipxe');
  assert.ok(s.startsWith('#!ipxe\n'));
  assert.match(s, /--ipxe-script-file oci\/launch\.ipxe/);
  assert.match(
    s,
    /:harvgen_retry\nisset \$\{ip\} \|\| dhcp \|\|\nimgfetch --name harvgen-boot http:\/\/192\.168\.122\.1\/boot\.ipxe && goto harvgen_run \|\|\n[^\n]*\nsleep 5\ngoto harvgen_retry\n/,
  );
  assert.match(s, /:harvgen_run\n[^\n]*\nimgexec harvgen-boot \|\|\nexit 1\n$/);
});

test.run();
