// `media-boot` of a `medium: usb` node (its USB image in the BMC's virtual USB stick, a one-time
// boot from `Usb`) against OpenStack sushy-tools 2.2.0's Redfish emulator (fake driver), as
// published on PyPI and unpatched (scripts/install-bmc-emulators.sh; test/real/helpers/sushy-emulator.ts).
// Stock sushy-tools has a virtual USB stick (its `Floppy` member takes `USBStick`) but never lists
// `Usb` among BootSourceOverrideTarget@Redfish.AllowableValues (its templates/system.json: Pxe,
// Cd, Hdd, and UefiHttp in UEFI mode, in every configuration). The script must find that out
// before it changes anything: exit 1, a message naming the target and what the BMC allows, and
// the BMC's virtual media and boot override read back unchanged through the emulator's own
// Redfish API, with no PATCH or POST in its log. The same with the emulator configured without a
// USB stick (SUSHY_EMULATOR_VMEDIA_DEVICES: the CD alone). A sushy-tools that lists `Usb` turns
// the expectation into the boot itself (`--keep-override`: it keeps every override).
//
//   HARVGEN_REQUIRE_REAL=1 node node_modules/uvu/bin.js -r tsx test/real '^bmc-sushy-usb\.test\.ts$'
//
// The mutation (the insert before the checks, as the script did before) leaves the USB image in
// the emulator's Floppy member, which the state comparison catches.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { build } from '../../src/index.ts';
import { mediaLoaders } from '../helpers/media.ts';
import { tempDir } from '../helpers/tmp.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { describe, run } from './helpers/proc.ts';
import { requireFetched } from './helpers/programs.ts';
import { startSushyEmulator, sushyUnavailable, type SushyEmulator } from './helpers/sushy-emulator.ts';

const USER = 'admin';
const PASSWORD = 'usb-test-password';
const NODE = 'su1';
const FAKE_UUID = '27946b59-9e44-4fa7-8e91-f3527a1ef094';
/** The emulator's virtual media with its CD alone (no member takes USBStick). */
const CD_ONLY = `SUSHY_EMULATOR_VMEDIA_DEVICES = {'Cd': {'Name': 'Virtual CD', 'MediaTypes': ['CD', 'DVD']}}\n`;

/** The emulator is installed (else a failure under HARVGEN_REQUIRE_REAL=1, a loud skip elsewhere). */
function emulatorHere(): boolean {
  const why = sushyUnavailable();
  return requireFetched(why ? [why] : [], `sushy-tools: ${why ?? ''}`);
}

/** A UEFI site whose one Redfish node (`medium: usb`) is the emulator's system; its deploy tree's directory. */
async function usbSite(emuPort: number, files: string): Promise<string> {
  const dir = tempDir('sushy-usb-site');
  const site = {
    site: 'sushyusb',
    harvester: { version: 'v1.5.1', artifacts: `${files}/artifacts` },
    boot: { server: files, firmware: 'uefi', media_loaders: mediaLoaders() },
    network: { cidr: '10.31.0.0/24', gateway: '10.31.0.1', dns: ['10.31.0.1'], dhcp_range: '10.31.0.100-10.31.0.199' },
    cluster: { vip: '10.31.0.10', token: 'test-token', ssh_authorized_keys: ['github:harvgen-ops'] },
    defaults: {
      state: 'install-once',
      install: { device: '/dev/vda' },
      bmc: { user: { env: 'T_BMC_USER' }, password: { env: 'T_BMC_PASSWORD' } },
    },
    nodes: [
      {
        hostname: NODE,
        mac: '52:54:00:31:00:01',
        medium: 'usb',
        method: 'static',
        ip: '10.31.0.21',
        bmc: { address: `127.0.0.1:${emuPort}` },
      },
    ],
  };
  writeFileSync(path.join(dir, 'site.yaml'), stringify(site));
  const r = await build({ sites: [dir], outDir: path.join(tempDir('sushy-usb-out'), 'out'), cwd: REPO_ROOT, secrets: 'filled' });
  assert.ok(r.ok, JSON.stringify(r.diagnostics, null, 2));
  return r.sites[0]!.dir;
}

/** What the emulator says of the system's boot override and of every virtual medium, read through its Redfish API. */
async function bmcState(emu: SushyEmulator): Promise<{ sys: string; boot: string; media: Record<string, string>; allowed: string[] }> {
  const systems = (await emu.get('/redfish/v1/Systems')).body.Members as { '@odata.id': string }[];
  const sys = systems[0]!['@odata.id'];
  const s = await emu.get(sys);
  assert.is(s.status, 200, s.text);
  const b = (s.body.Boot ?? {}) as Record<string, unknown>;
  const boot = ['BootSourceOverrideTarget', 'BootSourceOverrideEnabled', 'BootSourceOverrideMode']
    .map((k) => `${k}=${String(b[k])}`)
    .join(' ');
  const collection = (s.body.VirtualMedia as { '@odata.id': string })['@odata.id'];
  const media: Record<string, string> = {};
  for (const m of ((await emu.get(collection)).body.Members ?? []) as { '@odata.id': string }[]) {
    const v = (await emu.get(m['@odata.id'])).body;
    media[m['@odata.id']] = `${JSON.stringify(v.MediaTypes)} Image=${String(v.Image ?? '')} Inserted=${String(v.Inserted)}`;
  }
  return { sys, boot, media, allowed: (b['BootSourceOverrideTarget@Redfish.AllowableValues'] ?? []) as string[] };
}

/** Start the emulator (`extraConfig`), build the site, run `media-boot` (with `args` before it); what happened. */
async function mediaBoot(extraConfig: string, args: string[] = []) {
  const files = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('harvgen test image\n'));
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  const filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  const emu = await startSushyEmulator({
    user: USER,
    password: PASSWORD,
    driver: { fake: [{ uuid: FAKE_UUID, name: 'fake', power_state: 'Off', nics: [{ mac: '00:5c:52:31:3a:9d', ip: '172.22.0.101' }] }] },
    extraConfig,
  });
  try {
    const out = await usbSite(emu.port, filesUrl);
    const before = await bmcState(emu);
    const mark = emu.mark();
    const r = await run([path.join(out, 'bmc', `${NODE}.sh`), ...args, 'media-boot'], {
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_proxy$/i.test(k))),
        NO_PROXY: '127.0.0.1,localhost',
        T_BMC_USER: USER,
        T_BMC_PASSWORD: PASSWORD,
        CURL_CA_BUNDLE: emu.certFile,
        HARVGEN_BMC_POLL: '1',
        HARVGEN_BMC_WAIT: '3',
        HARVGEN_BMC_POWER_WAIT: '40',
      },
      timeoutMs: 180_000,
    });
    await new Promise((res) => setTimeout(res, 300)); // the emulator's last log lines
    const writes = emu.requestsSince(mark).filter((q) => q.method !== 'GET');
    const after = await bmcState(emu);
    console.log(
      `bmc-sushy-usb (${extraConfig ? 'CD alone' : 'stock'}): exit ${r.code}\n${r.stdout}${r.stderr}` +
        `  writes: ${writes.map((q) => `${q.method} ${q.path} ${q.status}`).join(', ') || 'none'}\n` +
        `  before: ${before.boot} ${JSON.stringify(before.media)}\n  after:  ${after.boot} ${JSON.stringify(after.media)}`,
    );
    return { r, before, after, writes, out: describe(r) };
  } finally {
    await emu.stop();
    files.close();
  }
}

test('sushy-tools (stock): media-boot of a medium: usb node is refused before any change, the BMC offering no Usb boot target; its media and boot override read back unchanged', async () => {
  if (!emulatorHere()) return;
  const first = await mediaBoot('');
  // The stick is there (the Floppy member takes USBStick): only the boot target is missing.
  assert.ok(
    Object.values(first.before.media).some((m) => m.includes('"USBStick"')),
    `stock sushy-tools offers a USB stick: ${JSON.stringify(first.before.media)}`,
  );
  if (first.before.allowed.includes('Usb')) {
    // A sushy-tools that boots Usb: the boot itself (it keeps every override: --keep-override).
    const s = await mediaBoot('', ['--keep-override']);
    assert.is(s.r.code, 0, s.out);
    assert.ok(/Image=http:\/\/127\.0\.0\.1:\d+\/\S+\.img Inserted=true/.test(Object.values(s.after.media).join('\n')), s.out);
    assert.match(s.after.boot, 'BootSourceOverrideTarget=Usb', s.out);
    return;
  }
  const { r, before, after, writes, out } = first;
  // First what the BMC holds: the old order (insert, then check) leaves the image in the Floppy member.
  assert.equal(writes, [], `no PATCH or POST reached the emulator\n${out}`);
  assert.equal(after.media, before.media, `the virtual media are as they were\n${out}`);
  assert.is(after.boot, before.boot, `the boot override is as it was\n${out}`);
  assert.is(r.code, 1, out);
  assert.match(
    r.stderr,
    new RegExp(
      `^${NODE}: /redfish/v1/Systems/${FAKE_UUID} does not offer the boot target Usb \\(it allows: ${before.allowed.join(' ')}\\): ` +
        "media-boot needs it for the node's USB image; nothing was changed$",
      'm',
    ),
    out,
  );
});

test('sushy-tools with the CD alone (SUSHY_EMULATOR_VMEDIA_DEVICES): media-boot of a medium: usb node finds no USB stick and changes nothing', async () => {
  if (!emulatorHere()) return;
  const { r, before, after, writes, out } = await mediaBoot(CD_ONLY);
  assert.is(r.code, 1, out);
  assert.match(
    r.stderr,
    new RegExp(
      `^${NODE}: GET /redfish/v1/Systems/${FAKE_UUID}/VirtualMedia: no virtual USB stick \\(its members take: CD DVD\\): ` +
        "media-boot needs it for the node's USB image; nothing was changed$",
      'm',
    ),
    out,
  );
  assert.equal(writes, [], `no PATCH or POST reached the emulator\n${out}`);
  assert.equal(after.media, before.media, out);
  assert.is(after.boot, before.boot, out);
});

test.run();
