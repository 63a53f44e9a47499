// What OVMF's UEFI HTTP boot entry does with the DHCP offer it gets, timed: OVMF in QEMU with its
// PXE entries off (the HTTP boot entry first) and a disk after it (an ESP whose loader prints the
// disk marker), and a plain dnsmasq in the test's namespace answering in one of three ways:
//
//   uri      what harvgen's `http_boot` lines send: option 60 `HTTPClient` and the boot file as a
//            URL (here on a closed port, so the fetch fails at once);
//   no-60    mutation: the same URL without option 60;
//   address  what a DHCP server without `http_boot` sends an HTTP boot client: an address only.
//
// The test times the entry from OVMF's ">>Start HTTP Boot" to the disk's marker and reads whether
// the firmware took the URL ("URI: ..." on its console).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { PLAIN_SERVER, withPlainNet } from './helpers/plain-net.ts';
import { bootVm, cleanSerial, limiter, type BootResult } from './helpers/qemu.ts';
import { DISK_MARKER, ESP_LABEL, UEFI_DISK_PROGRAMS, uefiMarkerDisk } from './helpers/disks.ts';
import { tempDir } from '../helpers/tmp.ts';

const START = '>>Start HTTP Boot over IPv4';
const URL = `http://${PLAIN_SERVER}:9/none.efi`;
/** Hard limit of a boot (OVMF to its HTTP entry ~10 s under TCG, the entry's wait, the disk). */
const LIMIT_MS = 150_000;

type Offer = 'uri' | 'no-60' | 'address';
/** Hard limit of the disk after the entry's start when the firmware takes the URL, and the least wait when it does not. */
const QUICK_S = 30;
const WAITS_S = 45;
const CASES: readonly { offer: Offer; mac: string; lines: string[]; title: string }[] = [
  {
    offer: 'uri',
    mac: '52:54:00:e2:00:01',
    lines: ['dhcp-vendorclass=set:http,HTTPClient', 'dhcp-option-force=tag:http,60,HTTPClient', `dhcp-boot=tag:http,${URL}`],
    title:
      "UEFI HTTP boot (OVMF): an offer with option 60 HTTPClient and a URL is taken; the URL's failure leads to the disk within seconds",
  },
  {
    offer: 'no-60',
    mac: '52:54:00:e2:00:02',
    lines: ['dhcp-vendorclass=set:http,HTTPClient', `dhcp-boot=tag:http,${URL}`],
    title:
      'mutation: the same offer without option 60 is ignored (the URL never taken), and OVMF waits for a server response before it boots the disk',
  },
  {
    offer: 'address',
    mac: '52:54:00:e2:00:03',
    lines: [],
    title:
      'UEFI HTTP boot (OVMF) against a DHCP server without http_boot (an address only): the entry waits for a server response before OVMF boots the disk',
  },
];

interface Measured {
  result: BootResult;
  /** Seconds from the HTTP entry's start to the disk's marker (undefined: never). */
  diskAfterS?: number;
  tookUrl: boolean;
  dnsmasq: string;
}

async function boot({ offer, mac, lines }: (typeof CASES)[number], disk: string): Promise<Measured> {
  const work = tempDir(`http-offer-${offer}`);
  return withPlainNet(`http${offer.replace('-', '')}`, work, lines, async ({ ns, tap, dnsmasq }) => {
    const at = { start: 0, disk: 0 };
    const result = await bootVm({
      firmware: 'uefi',
      mac,
      ns,
      tap,
      workDir: work,
      disk,
      ovmf: { IPv6Support: 'n', IPv4PXESupport: 'n' },
      timeoutMs: LIMIT_MS,
      stopWhen: (raw) => {
        const s = cleanSerial(raw);
        if (!s.includes(START)) return undefined;
        at.start ||= Date.now();
        if (s.includes(DISK_MARKER)) return ((at.disk = Date.now()), 'the disk booted');
        return undefined;
      },
    });
    const s = cleanSerial(result.serial);
    return {
      result,
      diskAfterS: at.disk ? Math.round((at.disk - at.start) / 100) / 10 : undefined,
      tookUrl: s.includes(`URI: ${URL}`),
      dnsmasq: dnsmasq.output(),
    };
  });
}

const ready = (): boolean => requireRoot() && requireProgram('qemu-system-x86_64', 'dnsmasq', ...UEFI_DISK_PROGRAMS);
// All three at once: two of them spend most of their time in the firmware's wait.
const slot = limiter(3);
let boots: Map<Offer, Promise<Measured>> | undefined;
/** The boots, started on first use. */
const measured = (offer: Offer): Promise<Measured> => {
  boots ??= new Map(
    CASES.map((c) => {
      const p = uefiMarkerDisk(ESP_LABEL).then((disk) => slot(() => boot(c, disk)));
      p.catch(() => undefined); // reported by the case's own test
      return [c.offer, p] as const;
    }),
  );
  return boots.get(offer)!;
};

const report = (m: Measured): string =>
  `stopped: ${m.result.stoppedBecause ?? (m.result.timedOut ? 'time limit' : `QEMU exit ${m.result.exitCode}`)} after ${Math.round(m.result.ms / 1000)} s\n` +
  `--- serial (end) ---\n${cleanSerial(m.result.serial).slice(-2500)}\n--- dnsmasq ---\n${m.dnsmasq.slice(-1500)}`;

for (const c of CASES)
  test(c.title, async () => {
    if (!ready()) return;
    const m = await measured(c.offer);
    const r = report(m);
    console.log(`  ${c.offer}: URL taken ${m.tookUrl}, the disk ${m.diskAfterS ?? 'never'} s after the HTTP entry started`);
    assert.ok(m.diskAfterS !== undefined, `the disk never booted\n${r}`);
    if (c.offer === 'uri') {
      assert.ok(m.tookUrl, `the firmware did not take the URL\n${r}`);
      assert.ok(m.diskAfterS < QUICK_S, `the disk booted only ${m.diskAfterS} s after the entry started\n${r}`);
      return;
    }
    // The offer went out (with the URL, for the mutation); the firmware did not use it.
    assert.match(m.dnsmasq, /DHCPOFFER/, `dnsmasq made no offer\n${r}`);
    if (c.offer === 'no-60') assert.ok(m.dnsmasq.includes(`bootfile-name  ${URL}`), `the offer had no URL\n${r}`);
    assert.not.ok(m.tookUrl, `the firmware took the URL\n${r}`);
    assert.match(cleanSerial(m.result.serial), /Server response timeout/, `no "Server response timeout"\n${r}`);
    assert.ok(m.diskAfterS >= WAITS_S, `the disk booted ${m.diskAfterS} s after the entry started: no wait\n${r}`);
  });

test.run();
