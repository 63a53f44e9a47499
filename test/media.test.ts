// Boot media (`medium: iso`, `medium: usb`; src/derive/media/, src/render/media.ts): what the tree
// holds for nodes that boot from an image, and what the rules refuse. test/real/media.test.ts boots
// the images in QEMU with no DHCP; test/media-image.test.ts reads the image formats back.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, compileSite, type Diagnostic } from '../src/index.ts';
import type { CompileOptions } from '../src/pipeline.ts';
import { status } from '../src/status/index.ts';
import { EFI_SYSTEM_PARTITION, guidText } from '../src/formats/gpt.ts';
import { tempDir } from './helpers/tmp.ts';
import { mediaLoaders, mediaSite, type MediaDoc } from './helpers/media.ts';

const loaders = mediaLoaders;
const site = mediaSite;
type Doc = MediaDoc;

const codes = (ds: readonly Diagnostic[]) => ds.map((d) => d.code);
const sha = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytesOf = (c: string | Uint8Array) => (typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
/** The deploy tree's files (the committed tree lists the images and holds none). */
const deploy = (dir: string, options: CompileOptions = {}) => compileSite(dir, { secrets: 'filled', ...options });
const SHARED = 'media/shared.boot.iso';

test('the nodes of medium: iso share one ISO holding their table, listed in manifest.json with its URL; the committed tree holds no image', async () => {
  const r = await deploy(site());
  assert.equal(
    codes(r.diagnostics).filter((c) => c.startsWith('MEDIA') || c.startsWith('BOOT_MEDIA')),
    [],
  );
  const files = new Map(r.artifacts!.map((a) => [a.path, a]));
  assert.equal(
    [...files.keys()].filter((p) => p.startsWith('media/')),
    [SHARED],
    'one image for both nodes',
  );
  const iso = files.get(SHARED)!;
  assert.is(iso.url, `http://10.0.9.5/real_media/${SHARED}`);
  const manifest = JSON.parse(files.get('manifest.json')!.contents as string) as Doc;
  for (const host of ['hv-m1', 'os-m1'])
    assert.equal(manifest.nodes.find((n: Doc) => n.hostname === host).medium, {
      path: SHARED,
      url: `http://10.0.9.5/real_media/${SHARED}`,
    });
  const listed = manifest.files.find((f: Doc) => f.path === SHARED);
  assert.is(listed.sha256, sha(iso.contents));
  const bytes = bytesOf(iso.contents);
  assert.ok(bytes.byteLength < 2 * 1024 * 1024, `the ISO is small: ${bytes.byteLength} bytes`);
  // The committed tree: the same manifest entry (path, size, SHA-256), no bytes, no iPXE binary.
  const committed = await compileSite(site());
  assert.ok(!committed.artifacts!.some((a) => a.path.startsWith('media/')), 'no image in the committed tree');
  const cm = JSON.parse(committed.artifacts!.find((a) => a.path === 'manifest.json')!.contents as string) as Doc;
  assert.equal(
    cm.files.find((f: Doc) => f.path === SHARED),
    listed,
  );
  // One script for both firmwares: the table of both nodes (boot MAC, static address, script URL)
  // and the mark of a boot medium (the node's script then never gives up); on the CD for
  // ISOLINUX and in the FAT image as autoexec.ipxe (with ipxe.efi as the firmware's default loader).
  const text = bytes.toString('latin1');
  const script = renderedScript(text);
  assert.match(script, 'set harvgen_medium iso\n');
  for (const [mac, ip] of [
    ['52:54:00:4d:00:01', '10.0.5.11'],
    ['52:54:00:4d:00:02', '10.0.5.12'],
  ] as const) {
    assert.match(
      script,
      `iseq \${net\${harvgen_n}/mac} ${mac} && set harvgen_entry http://10.0.9.5/real_media/ipxe/${mac.replaceAll(':', '-')}.ipxe`,
    );
    assert.match(script, ip);
  }
  assert.match(script, 'set net${harvgen_n}/gateway 10.0.5.1');
  assert.match(script, 'none of its NICs has a boot MAC of its table', 'an unknown machine is told so');
  assert.is(text.split(script).length - 1, 2, "the same script twice: isolinux/node.ipxe and the FAT image's autoexec.ipxe");
  assert.match(text, 'AUTOEX~1IPX', "the FAT image's short alias of autoexec.ipxe");
  assert.match(text, 'file:/autoexec.ipxe', "ipxe.efi (the stand-in's bytes) is in the image");
  assert.not.match(text, 'grub', 'no GRUB config');
  // The generic node's kernel line (in its own script, which the ISO runs) gets its static address.
  const osScript = files.get('ipxe/52-54-00-4d-00-02.ipxe')!.contents as string;
  assert.match(osScript, ' ip=10.0.5.12::10.0.5.1:255.255.255.0:os-m1::none:10.0.5.1 ');
  const netcfg = / network-config=([A-Za-z0-9+/=]+)/.exec(osScript)?.[1];
  assert.ok(netcfg, "cloud-init's network config on the generic node's kernel line");
  assert.equal(JSON.parse(Buffer.from(netcfg!, 'base64').toString()), {
    version: 2,
    ethernets: {
      'boot-52-54-00-4d-00-02': {
        match: { macaddress: '52:54:00:4d:00:02' },
        addresses: ['10.0.5.12/24'],
        routes: [{ to: '0.0.0.0/0', via: '10.0.5.1' }],
        nameservers: { addresses: ['10.0.5.1'] },
      },
    },
  });
});

test('medium_image: own gives the node an image of its own, which names no other node; medium: usb a hybrid disk image', async () => {
  const r = await deploy(site((d) => (d.nodes[0].medium_image = 'own')));
  const paths = r.artifacts!.map((a) => a.path).filter((p) => p.startsWith('media/'));
  assert.equal(paths, ['media/hv-m1.iso', SHARED]);
  const own = renderedScript(bytesOf(r.artifacts!.find((a) => a.path === 'media/hv-m1.iso')!.contents).toString('latin1'));
  assert.match(own, '52:54:00:4d:00:01');
  assert.not.match(own, '52:54:00:4d:00:02', "the other node's MAC is not on it");
  assert.not.match(own, '10.0.5.12', 'nor its address');
  const shared = renderedScript(bytesOf(r.artifacts!.find((a) => a.path === SHARED)!.contents).toString('latin1'));
  assert.not.match(shared, '52:54:00:4d:00:01', 'the shared image leaves out the node with its own');
  // A USB disk image: the same ISO, made a disk too (a protective MBR and a GPT with an EFI system partition).
  const usb = await deploy(site((d) => (d.defaults.medium = 'usb')));
  const img = usb.artifacts!.find((a) => a.path === 'media/shared.boot.img');
  assert.ok(
    img,
    usb
      .artifacts!.map((a) => a.path)
      .filter((p) => p.startsWith('media/'))
      .join(),
  );
  const disk = bytesOf(img!.contents);
  assert.is(disk.readUInt16LE(510), 0xaa55, 'an MBR boot signature');
  assert.is(disk[446 + 4], 0xee, 'a protective MBR');
  assert.is(disk.toString('latin1', 512, 520), 'EFI PART', 'a GPT header at LBA 1');
  assert.is(guidText(disk.subarray(1024, 1040)), EFI_SYSTEM_PARTITION, 'its first partition is the EFI system partition');
  assert.is(disk.toString('latin1', disk.byteLength - 512, disk.byteLength - 504), 'EFI PART', 'the backup header in the last block');
  assert.match(renderedScript(disk.toString('latin1')), 'set harvgen_medium usb\n');
});

/** The ISO's iPXE script, found in the image's bytes. */
function renderedScript(image: string): string {
  const at = image.indexOf('#!ipxe\n# harvgen: ');
  assert.ok(at >= 0, 'the script is in the image');
  return image.slice(at, image.indexOf('exit 1\n', at) + 'exit 1\n'.length);
}

test('the ISO is byte-identical from two directories, and changes with a boot program', async () => {
  const one = await deploy(site(undefined, tempDir('media-a')));
  const two = await deploy(site(undefined, tempDir('media-b')));
  const iso = (r: typeof one) => sha(r.artifacts!.find((a) => a.path === SHARED)!.contents);
  assert.is(iso(one), iso(two));
  const other = await deploy(site(undefined, tempDir('media-c'), loaders(undefined, { 'ipxe.lkrn': new Uint8Array(5000).fill(0x34) })));
  assert.is.not(iso(other), iso(one));
});

test("watch's render cache makes the ISO again when a boot program changes (the node itself did not)", async () => {
  const loaderDir = loaders();
  const dir = site(undefined, undefined, loaderDir);
  const renderCaches = new Map();
  const iso = async () => sha((await deploy(dir, { renderCaches })).artifacts!.find((a) => a.path === SHARED)!.contents);
  const first = await iso();
  assert.is(await iso(), first, 'nothing changed: the same ISO');
  writeFileSync(join(loaderDir, 'ipxe.lkrn'), new Uint8Array(5000).fill(0x35));
  const second = await iso();
  assert.is.not(second, first, 'a changed ipxe.lkrn makes a new ISO');
  assert.is(second, sha((await deploy(dir)).artifacts!.find((a) => a.path === SHARED)!.contents), 'the one a fresh compile makes');
});

test("nginx: the shared ISO is served only to its nodes' BMCs (nginx.access: nodes), by pattern under access: open", async () => {
  const r = await compileSite(site());
  const nginx = r.artifacts!.find((a) => a.path === 'nginx/harvgen.conf')!.contents as string;
  const block = /location = \/real_media\/media\/shared\.boot\.iso \{[\s\S]*?alias [^\n]*\n/.exec(nginx)?.[0] ?? '';
  assert.match(block, 'allow 10.0.5.201;');
  assert.match(block, 'allow 10.0.5.202;');
  assert.match(block, 'deny all;');
  assert.match(block, 'default_type application/octet-stream;');
  const own = await compileSite(site((d) => (d.nodes[0].medium_image = 'own')));
  const ownConf = own.artifacts!.find((a) => a.path === 'nginx/harvgen.conf')!.contents as string;
  const ownBlock = /location = \/real_media\/media\/hv-m1\.iso \{[\s\S]*?alias [^\n]*\n/.exec(ownConf)?.[0] ?? '';
  assert.match(ownBlock, 'allow 10.0.5.201;');
  assert.not.match(ownBlock, '10.0.5.202', "another node's BMC may not fetch a node's own image");
  const open = await compileSite(site((d) => (d.nginx = { access: 'open' })));
  const conf = open.artifacts!.find((a) => a.path === 'nginx/harvgen.conf')!.contents as string;
  assert.match(conf, 'location ~ "^/real_media/media/(([a-z0-9](?:[a-z0-9-]*[a-z0-9])?|shared\\.boot)\\.(iso|img))$"');
});

test('nginx.file_key: the shared ISO has a keyed name, and holds the keyed script URLs', async () => {
  const dir = site((d) => (d.nginx = { file_key: { file: 'file-key' } }));
  writeFileSync(join(dir, 'file-key'), `${'k'.repeat(40)}\n`, { mode: 0o600 });
  const r = await deploy(dir);
  const iso = r.artifacts!.find((a) => /^media\/shared\.boot-[0-9a-f]{32}\.iso$/.test(a.path));
  assert.ok(iso, `keyed ISO name: ${r.artifacts!.map((a) => a.path).filter((p) => p.startsWith('media/'))}`);
  const text = bytesOf(iso!.contents).toString('latin1');
  assert.match(text, /set harvgen_entry http:\/\/10\.0\.9\.5\/real_media\/ipxe\/52-54-00-4d-00-01-[0-9a-f]{32}\.ipxe/);
  assert.match(text, /set harvgen_entry http:\/\/10\.0\.9\.5\/real_media\/ipxe\/52-54-00-4d-00-02-[0-9a-f]{32}\.ipxe/);
});

/** The diagnostics of the fixture with `change`, as code@line. */
async function found(change: (doc: Doc) => void, loaderDir?: string): Promise<Diagnostic[]> {
  const r = await compileSite(site(change, undefined, loaderDir));
  return r.diagnostics.filter((d) => d.code.startsWith('MEDIA') || d.code.startsWith('BOOT_MEDIA'));
}

test('rules: a media node needs a static address, boot programs, a kind and URLs the ISO can boot', async () => {
  const dhcp = await found((d) => (d.nodes[0].method = 'dhcp'));
  assert.equal(
    dhcp.map((d) => d.code),
    ['MEDIA_NEEDS_STATIC'],
  );
  assert.match(dhcp[0]!.message, 'no DHCP');
  assert.ok(dhcp[0]!.line !== undefined, 'positioned');
  const noLoaders = await found((d) => delete d.boot.media_loaders);
  // Both nodes take `medium: iso` from defaults: reported once, there.
  assert.equal(
    noLoaders.map((d) => d.code),
    ['MEDIA_NEEDS_LOADERS'],
  );
  // Both firmwares run iPXE, which fetches what the node's script names, https too.
  assert.equal(await found((d) => (d.os_profiles.busybox.kernel = 'https://10.0.9.5/real_media/os/vmlinuz')), []);
  const arm = await found((d) => (d.nodes[1].arch = 'arm64'));
  assert.equal(
    arm.map((d) => d.code),
    ['MEDIA_UNSUPPORTED'],
  );
  const named = await found(
    (d) => (
      (d.boot.server = 'http://boot.example/real_media'),
      (d.defaults.dns = []),
      (d.harvester.artifacts = 'http://boot.example/real_media/artifacts')
    ),
  );
  assert.ok(
    named.some((d) => d.code === 'MEDIA_NEEDS_STATIC' && /DNS server/.test(d.message)),
    JSON.stringify(named),
  );
});

test('rules: the BMC must be an address nginx can allow; loaders are checked', async () => {
  const vlan = await found((d) => (d.nodes[0].vlan = 100));
  assert.equal(
    vlan.map((d) => [d.code, d.severity]),
    [['MEDIA_VLAN_UNTAGGED', 'warning']],
  );
  const noBmc = await found((d) => delete d.nodes[0].bmc);
  assert.equal(
    noBmc.map((d) => [d.code, d.severity]),
    [['MEDIA_BMC_REFUSED', 'warning']],
  );
  assert.equal(await found((d) => ((d.nginx = { access: 'open' }), delete d.nodes[0].bmc)), []);
  const missing = await found(() => undefined, loaders(undefined, { 'ldlinux.c32': undefined }));
  assert.equal(
    missing.map((d) => d.code),
    ['BOOT_MEDIA_LOADER_MISSING'],
  );
  assert.match(missing[0]!.message, 'ldlinux.c32');
  const notEfi = await found(() => undefined, loaders(undefined, { 'ipxe.efi': new Uint8Array(100) }));
  assert.equal(
    notEfi.map((d) => d.code),
    ['BOOT_MEDIA_LOADER_INVALID'],
  );
  // An iPXE that runs no script from its medium (Debian 12's, 2019) would look for DHCP instead.
  const old = await found(() => undefined, loaders(undefined, { 'ipxe.efi': Uint8Array.from([0x4d, 0x5a, ...new Uint8Array(6000)]) }));
  assert.equal(
    old.map((d) => d.code),
    ['BOOT_MEDIA_LOADER_INVALID'],
  );
  assert.match(old[0]!.message, 'no autoexec.ipxe in it');
  assert.match(old[0]!.hint!, "Debian 13's ipxe package");
  // snponly.efi runs autoexec.ipxe too, but drives only a NIC the firmware connected.
  const snp = await found(
    () => undefined,
    loaders(undefined, { 'ipxe.efi': Uint8Array.from([0x4d, 0x5a, ...Buffer.from('snponly file:/autoexec.ipxe')]) }),
  );
  assert.equal(
    snp.map((d) => d.code),
    ['BOOT_MEDIA_LOADER_INVALID'],
  );
  assert.match(snp[0]!.message, "is iPXE's snponly.efi");
  // UTF-16, as some iPXE builds name it, counts too.
  const wide = Uint8Array.from([0x4d, 0x5a, ...new Uint8Array(100), ...Buffer.from('autoexec.ipxe', 'utf16le')]);
  assert.equal(await found(() => undefined, loaders(undefined, { 'ipxe.efi': wide })), []);
  // A directory made for the GRUB path (bootx64.efi, no ipxe.efi): the hint says what changed.
  const grubDir = loaders(undefined, { 'ipxe.efi': undefined, 'bootx64.efi': Uint8Array.from([0x4d, 0x5a, 1, 2]) });
  const grub = await found(() => undefined, grubDir);
  assert.equal(
    grub.map((d) => d.code),
    ['BOOT_MEDIA_LOADER_MISSING'],
  );
  assert.match(grub[0]!.hint!, 'the bootx64.efi there is not used');
  // No node boots from an ISO: the directory is not read at all.
  assert.equal(await found((d) => (d.defaults.medium = 'network'), join(tempDir('none'), 'missing')), []);
});

test('install.iso_url: local needs v1.9 and a node with a boot ISO; it reaches the config', async () => {
  const old = await found((d) => (d.nodes[0].install = { iso_url: 'local' }));
  assert.equal(
    old.map((d) => d.code),
    ['MEDIA_ISO_LOCAL_INVALID'],
  );
  assert.match(old[0]!.message, 'v1.4.1');
  const v19 = (d: Doc) => {
    d.harvester.version = 'v1.9.0';
    d.nodes[0].install = { iso_url: 'local' };
  };
  assert.equal(await found(v19), []);
  const net = await found((d) => (v19(d), (d.nodes[0].medium = 'network')));
  assert.equal(
    net.map((d) => d.code),
    ['MEDIA_ISO_LOCAL_INVALID'],
  );
  assert.match(net[0]!.message, 'boots from the network');
  // Through config: as well.
  const viaConfig = await found((d) => ((d.harvester.version = 'v1.8.1'), (d.nodes[0].config = { install: { iso_url: 'local' } })));
  assert.equal(
    viaConfig.map((d) => d.code),
    ['MEDIA_ISO_LOCAL_INVALID'],
  );
  const r = await compileSite(site(v19));
  const config = r.artifacts!.find((a) => a.path === 'harvester/hv-m1.yaml')!.contents as string;
  assert.match(config, 'iso_url: local');
});

test('build: the committed tree lists the ISO and holds none; the deploy tree writes it, and a second build leaves it untouched', async () => {
  const dir = site();
  const out = join(tempDir('media-out'), 'out');
  const first = await build({ sites: [dir], outDir: out });
  assert.ok(first.ok, JSON.stringify(first.diagnostics.filter((d) => d.severity === 'error')));
  assert.not.ok(existsSync(join(out, 'real_media', SHARED)), 'no image in the committed tree');
  // A tree an earlier harvgen wrote, with a node's own ISO in it and in its manifest: the next
  // build removes it.
  mkdirSync(join(out, 'real_media/media'), { recursive: true });
  const old = new Uint8Array(2048);
  writeFileSync(join(out, 'real_media/media/hv-m1.iso'), old);
  const manifestPath = join(out, 'real_media/manifest.json');
  const before = JSON.parse(readFileSync(manifestPath, 'utf8')) as Doc;
  before.files.push({ path: 'media/hv-m1.iso', size: old.byteLength, sha256: sha(old) });
  writeFileSync(manifestPath, JSON.stringify(before));
  const migrated = await build({ sites: [dir], outDir: out, force: true });
  assert.ok(migrated.ok, JSON.stringify(migrated.diagnostics.filter((d) => d.severity === 'error')));
  assert.not.ok(existsSync(join(out, 'real_media/media/hv-m1.iso')), 'the old image is gone, with no manual step');
  const listed = (JSON.parse(readFileSync(join(out, 'real_media/manifest.json'), 'utf8')) as Doc).files.find((f: Doc) => f.path === SHARED);
  const deployOut = join(tempDir('media-deploy'), 'out');
  const made = await build({ sites: [dir], outDir: deployOut, secrets: 'filled' });
  assert.ok(made.ok, JSON.stringify(made.diagnostics.filter((d) => d.severity === 'error')));
  const path = join(deployOut, 'real_media', SHARED);
  const bytes = readFileSync(path);
  const manifest = JSON.parse(readFileSync(join(deployOut, 'real_media/manifest.json'), 'utf8')) as Doc;
  assert.is(manifest.files.find((f: Doc) => f.path === SHARED).sha256, sha(bytes));
  assert.equal(
    listed,
    manifest.files.find((f: Doc) => f.path === SHARED),
    'both trees list the same image',
  );
  const { mtimeMs } = statSync(path);
  const again = await build({ sites: [dir], outDir: deployOut, secrets: 'filled' });
  assert.ok(again.ok);
  assert.is(statSync(path).mtimeMs, mtimeMs, 'the unchanged image is not written again');
});

test("status: a BMC's download of the shared ISO is counted for its node, from its address only; the boot starts with the node's script", async () => {
  const dir = site();
  const log = join(tempDir('media-status'), 'access.log');
  const line = (ip: string, path: string, status = 200) =>
    `${ip} - - [26/Nov/2026:22:00:00 +0000] "GET ${path} HTTP/1.1" ${status} 100 "-" "curl/7.88"`;
  const iso = `/real_media/${SHARED}`;
  writeFileSync(log, [line('10.0.5.201', iso), line('10.0.5.99', iso), line('10.0.5.202', iso, 403)].join('\n') + '\n');
  const before = await status({ sites: [dir], logs: [log] });
  const hv = before.nodes.find((n) => n.hostname === 'hv-m1')!;
  assert.is(hv.verdict, 'never-booted', "the BMC's fetch of the ISO is no boot");
  assert.equal(hv.medium, { count: 1, last: '2026-11-26T22:00:00.000Z', status: 200, ip: '10.0.5.201' });
  assert.equal(hv.fetches, {});
  // Another address (no node's BMC) fetching the ISO is no machine's: counted apart.
  assert.is(before.foreignRequests, 1, 'the ISO from 10.0.5.99');
  const os = before.nodes.find((n) => n.hostname === 'os-m1')!;
  assert.equal(os.medium?.status, 403);
  assert.match(os.problems.join('\n'), "its BMC's download of the boot ISO got 403");
  // A node's own image (medium_image: own) is its own BMC's only.
  const ownDir = site((d) => (d.nodes[0].medium_image = 'own'));
  writeFileSync(
    log,
    [line('10.0.5.202', '/real_media/media/hv-m1.iso'), line('10.0.5.201', '/real_media/media/hv-m1.iso')].join('\n') + '\n',
  );
  const own = await status({ sites: [ownDir], logs: [log] });
  assert.is(own.nodes.find((n) => n.hostname === 'hv-m1')!.medium?.ip, '10.0.5.201');
  assert.is(own.foreignRequests, 1, "os-m1's BMC asking for hv-m1's own image");
  // Keyed names (nginx.file_key): the ISO's tag is part of its name.
  const keyedDir = site((d) => (d.nginx = { file_key: { file: 'file-key' } }));
  writeFileSync(join(keyedDir, 'file-key'), `${'k'.repeat(40)}\n`, { mode: 0o600 });
  const keyedIso = (await deploy(keyedDir)).artifacts!.find((a) => a.path.startsWith('media/shared.boot-'))!.path;
  writeFileSync(log, [line('10.0.5.201', `/real_media/${keyedIso}`), line('10.0.5.201', iso, 404)].join('\n') + '\n');
  const keyed = await status({ sites: [keyedDir], logs: [log] });
  const kv = keyed.nodes.find((n) => n.hostname === 'hv-m1')!;
  assert.equal(kv.medium, { count: 1, last: '2026-11-26T22:00:00.000Z', status: 200, ip: '10.0.5.201' }, JSON.stringify(kv));
  assert.is(keyed.foreignRequests, 1, "the plain name of a keyed ISO is no node's");
  // Both firmwares run iPXE from the ISO, which fetches the node's script: that starts the boot.
  writeFileSync(log, [line('10.0.5.201', iso), line('10.0.5.11', '/real_media/ipxe/52-54-00-4d-00-01.ipxe')].join('\n') + '\n');
  const after = (await status({ sites: [dir], logs: [log] })).nodes.find((n) => n.hostname === 'hv-m1')!;
  assert.is(after.verdict, 'booting');
  assert.is(after.last_boot?.ip, '10.0.5.11');
  assert.is(after.medium?.count, 1);
});

test.run();
