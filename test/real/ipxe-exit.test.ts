// What `exit` in an iPXE script does under OVMF with Debian's `ipxe.efi` (the loader `check` warns
// about with BOOT_EXIT_MAY_HANG; the lifecycle tests show harvgen's default, `snponly.efi`), on a
// virtio-net NIC (OVMF's own driver; `ipxe.efi` then drives it through the firmware's SNP too) and
// on an e1000 with the UEFI ROM QEMU gives it (Debian's ipxe-qemu), which `ipxe.efi` takes over
// with its own driver.
//
// Each boot: OVMF in QEMU with its PXE entry first, its HTTP boot entry next and a disk last (an
// ESP whose loader prints the disk marker), a plain dnsmasq in the test's namespace that gives the
// loader over TFTP and, to iPXE (user class iPXE), a script that echoes a line and runs `exit 1`,
// as harvgen's scripts leave network boot. HTTP boot clients get a URL on a closed port, so that
// entry fails at once. The test times what follows the echo: OVMF's own "failed to start" line for
// its PXE entry (the firmware has control again), its HTTP entry asking DHCP through the NIC, and
// the disk booting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { IPXE_DIR } from './helpers/lab.ts';
import { PLAIN_SERVER, withPlainNet } from './helpers/plain-net.ts';
import { bootVm, cleanSerial, limiter, type BootResult } from './helpers/qemu.ts';
import { DISK_MARKER, ESP_LABEL, UEFI_DISK_PROGRAMS, uefiMarkerDisk } from './helpers/disks.ts';
import { tempDir } from '../helpers/tmp.ts';

/** What the script echoes just before `exit 1`. */
const EXITING = 'HARVGEN-IPXE-EXITING';
/** How long after the echo the firmware gets to boot the disk. */
const AFTER_EXIT_MS = 60_000;
/** From QEMU's start to the echo: OVMF, PXE, the loader, iPXE's DHCP (TCG, two boots at a time; ~30 s measured). */
const TO_EXIT_MS = 90_000;
/** OVMF's line when a boot entry's program returned an error (here: iPXE after `exit 1`). */
const RETURNED = /BdsDxe: failed to start Boot\w+ "UEFI PXEv4[^\n]*/;
const E1000_ROM = '/usr/lib/ipxe/qemu/efi-e1000.rom';

type Loader = 'ipxe.efi' | 'snponly.efi';
type Nic = 'virtio' | 'e1000';
const CASES = [
  {
    loader: 'ipxe.efi',
    nic: 'virtio',
    mac: '52:54:00:e1:00:02',
    driver: 'SNP',
    title:
      "UEFI (OVMF), virtio-net: Debian's ipxe.efi drives the NIC through the firmware's SNP; after its script's exit OVMF has control again, asks DHCP through the NIC and boots the disk",
  },
  {
    loader: 'ipxe.efi',
    nic: 'e1000',
    mac: '52:54:00:e1:00:04',
    driver: '82540em',
    title:
      "UEFI (OVMF), e1000 with its UEFI ROM: Debian's ipxe.efi takes the NIC over with its own driver; after its script's exit OVMF has control again, asks DHCP through the NIC and boots the disk",
  },
] as const;

/** The NIC: virtio-net (OVMF's own driver) by default, or an e1000 driven by its UEFI ROM. */
const nicDevice = (nic: Nic, mac: string): string | undefined =>
  nic === 'e1000' ? `e1000,netdev=n0,mac=${mac},bootindex=1,romfile=${E1000_ROM}` : undefined;

interface Measured {
  result: BootResult;
  echoed: boolean;
  /** Seconds from the echo to OVMF's "failed to start" line of its PXE entry (undefined: never). */
  returnedAfterS?: number;
  /** Seconds from the echo to the disk's marker (undefined: never). */
  diskAfterS?: number;
  dnsmasq: string;
}

async function bootLoader(loader: Loader, nic: Nic, mac: string, disk: string): Promise<Measured> {
  const work = tempDir(`ipxe-exit-${loader}-${nic}`);
  const tftp = path.join(work, 'tftp');
  await mkdir(tftp);
  await copyFile(path.join(IPXE_DIR, loader), path.join(tftp, loader));
  await writeFile(path.join(tftp, 'exit.ipxe'), `#!ipxe\necho ${EXITING}\nexit 1\n`);
  return withPlainNet(`exit${nic}`, work, bootLines(tftp, loader), async ({ ns, tap, dnsmasq }) => {
    const at = { echo: 0, returned: 0, disk: 0 };
    const result = await bootVm({
      firmware: 'uefi',
      mac,
      ns,
      tap,
      workDir: work,
      disk,
      nic: nicDevice(nic, mac),
      ovmf: { IPv6Support: 'n' },
      timeoutMs: TO_EXIT_MS + AFTER_EXIT_MS,
      stopWhen: (raw) => {
        const s = cleanSerial(raw);
        const from = s.indexOf(EXITING);
        if (from < 0) return undefined;
        const now = Date.now();
        at.echo ||= now;
        if (RETURNED.test(s.slice(from))) at.returned ||= now;
        if (s.indexOf(DISK_MARKER, from) >= 0) return ((at.disk = now), 'the disk booted');
        return now - at.echo > AFTER_EXIT_MS ? 'no disk boot within the limit' : undefined;
      },
    });
    const after = (t: number): number | undefined => (t ? Math.round((t - at.echo) / 100) / 10 : undefined);
    return { result, echoed: at.echo > 0, returnedAfterS: after(at.returned), diskAfterS: after(at.disk), dnsmasq: dnsmasq.output() };
  });
}

/** The loader over TFTP, exit.ipxe to iPXE, a URL on a closed port to HTTP boot clients. */
function bootLines(tftp: string, loader: Loader): string[] {
  return [
    'enable-tftp',
    `tftp-root=${tftp}`,
    'dhcp-userclass=set:ipxe,iPXE',
    'dhcp-vendorclass=set:http,HTTPClient',
    'dhcp-boot=tag:ipxe,exit.ipxe',
    `dhcp-boot=tag:!ipxe,tag:!http,${loader}`,
    // Port 9 (discard) is closed: the HTTP boot entry fails at once instead of waiting.
    'dhcp-option-force=tag:http,60,HTTPClient',
    `dhcp-boot=tag:http,http://${PLAIN_SERVER}:9/none.efi`,
  ];
}

const ready = (): boolean =>
  requireRoot() && requireProgram('qemu-system-x86_64', 'dnsmasq', path.join(IPXE_DIR, 'ipxe.efi'), E1000_ROM, ...UEFI_DISK_PROGRAMS);
const slot = limiter(2);
let boots: Map<string, Promise<Measured>> | undefined;
/** The boots, started on first use, two at a time. */
const measured = (loader: Loader, nic: Nic): Promise<Measured> => {
  boots ??= new Map(
    CASES.map((c) => {
      const p = uefiMarkerDisk(ESP_LABEL).then((disk) => slot(() => bootLoader(c.loader, c.nic, c.mac, disk)));
      p.catch(() => undefined); // reported by the case's own test
      return [`${c.loader}/${c.nic}`, p] as const;
    }),
  );
  return boots.get(`${loader}/${nic}`)!;
};

const report = (m: Measured): string =>
  `stopped: ${m.result.stoppedBecause ?? (m.result.timedOut ? 'time limit' : `QEMU exit ${m.result.exitCode}`)} after ${Math.round(m.result.ms / 1000)} s\n` +
  `--- serial (end) ---\n${cleanSerial(m.result.serial).slice(-3000)}\n--- dnsmasq ---\n${m.dnsmasq.slice(-1500)}`;

for (const c of CASES)
  test(c.title, async () => {
    if (!ready()) return;
    const m = await measured(c.loader, c.nic);
    const r = report(m);
    console.log(
      `  ${c.loader}, ${c.nic}: OVMF had control ${m.returnedAfterS ?? '-'} s and booted the disk ${m.diskAfterS ?? '-'} s after the script's exit`,
    );
    const s = cleanSerial(m.result.serial);
    assert.ok(m.echoed, `the script never ran\n${r}`);
    assert.match(s, new RegExp(`net0: ${c.mac} using ${c.driver} on `), `iPXE did not use ${c.driver}\n${r}`);
    assert.ok(m.returnedAfterS !== undefined, `OVMF never got control back from iPXE\n${r}`);
    // The firmware's own network stack works after iPXE: its HTTP boot entry asks DHCP.
    assert.match(m.dnsmasq, /vendor class: HTTPClient/, `OVMF's HTTP boot entry never asked DHCP\n${r}`);
    assert.ok(m.diskAfterS !== undefined, `the disk never booted\n${r}`);
  });

test.run();
