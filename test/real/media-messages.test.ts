// What a boot image's iPXE script (templates/media.ipxe.eta) says on the console when it cannot run
// its node's script, booted for real (QEMU, TCG; Debian 13's iPXE as the image's loaders, as in
// media.test.ts, the lab of test/real/helpers/lab.ts with the generated nginx server block and no
// DHCP). Two faults that looked alike before:
// - the boot server answers 404 for the node's script (a partial deploy, an image older than the
//   tree: here the script is deleted from the served tree): iPXE's ${errno} reads httpcore's
//   ENOENT_404, whose platform byte differs between the BIOS and the UEFI build, so both boot.
//   The image says the server answered 404 and what to do, never "is not reachable", and waits
//   boot.retry_delay x MISSING_SCRIPT_WAIT_FACTOR between rounds (measured between two 404s in
//   nginx's access log on BIOS);
// - nothing answers (nginx stopped: connection refused): "is not reachable", never the 404 text.
//
//   HARVGEN_REQUIRE_REAL=1 node node_modules/uvu/bin.js -r tsx test/real '^media-messages\.test\.ts$'
//
// The mutations: the script as it was (no errno test) says "is not reachable" for the 404, and
// the 404 cases stop there and fail; with the BIOS error number alone, the UEFI case does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { MISSING_SCRIPT_WAIT_FACTOR } from '../../src/render/media.ts';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { withLab } from './helpers/lab.ts';
import { bootVm, cleanSerial, lazyBoots, type BootResult } from './helpers/qemu.ts';
import { buildFixtureTrees, type SiteTree } from './helpers/tree.ts';
import { flat, requests } from './helpers/boot-log.ts';
import { mediaLoaders, mediaLoadersAvailable } from './helpers/media-loaders.ts';
import { tempDir } from '../helpers/tmp.ts';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/real/media');
const GATEWAY = '10.0.5.1';
const HOST = 'hv-m1';
const SERVER = 'http://10.0.9.5/real_media';
/** boot.retry_delay of the test's site: the 404 wait is this times MISSING_SCRIPT_WAIT_FACTOR. */
const RETRY_DELAY = 2;
const MISSING_WAIT = RETRY_DELAY * MISSING_SCRIPT_WAIT_FACTOR;
/** Hard limits per boot (TCG; two rounds of the 404 wait on BIOS). */
const LIMIT_MS = { bios: 150_000, uefi: 240_000 } as const;

type Firmware = 'bios' | 'uefi';

interface Case {
  id: string;
  firmware: Firmware;
  fault: 'missing' | 'unreachable';
  /** Boot until the image has paused this many times. */
  rounds: number;
  title: string;
}

const CASES: Case[] = [
  {
    id: 'bios-missing',
    firmware: 'bios',
    fault: 'missing',
    rounds: 2,
    title:
      "BIOS: a node's script answered 404 is said to be missing from the boot server (not unreachable), with the fix, and asked again after the longer wait",
  },
  {
    id: 'uefi-missing',
    firmware: 'uefi',
    fault: 'missing',
    rounds: 1,
    title: "UEFI: a node's script answered 404 is said to be missing from the boot server (UEFI iPXE's own error number for a 404)",
  },
  {
    id: 'bios-unreachable',
    firmware: 'bios',
    fault: 'unreachable',
    rounds: 1,
    title: 'BIOS: a boot server that refuses the connection is "not reachable", and nothing speaks of a 404',
  },
];

const PAUSED = {
  missing: /harvgen: the boot server answered 404 for this node's script; trying again in (\d+) s/g,
  unreachable: /harvgen: no NIC of its node reached \S+; trying again in (\d+) s/g,
} as const;

/** The media fixture for one firmware, with the short retry delay. */
async function siteFor(firmware: Firmware): Promise<SiteTree> {
  const dir = path.join(tempDir(`media-msg-${firmware}`), 'site');
  await cp(FIXTURE, dir, { recursive: true });
  const doc = parseYaml(await readFile(path.join(dir, 'site.yaml'), 'utf8')) as { boot: Record<string, unknown> };
  Object.assign(doc.boot, { media_loaders: await mediaLoaders(), firmware, retry_delay: RETRY_DELAY });
  await writeFile(path.join(dir, 'site.yaml'), stringifyYaml(doc));
  return (await buildFixtureTrees(`media-msg-${firmware}`, { site: dir })).site;
}

interface Outcome {
  result?: BootResult;
  access: string;
  script: string;
  error?: unknown;
}

async function runCase(c: Case, tree: SiteTree): Promise<Outcome> {
  const node = tree.manifest.nodes.find((n) => n.hostname === HOST)!;
  const medium = node.medium!;
  const script = `ipxe/${node.macs[0]!.replace(/:/g, '-')}.ipxe`;
  // A partial deploy: the tree on the server lacks the node's script (each case has its own tree).
  if (c.fault === 'missing') await rm(path.join(tree.dir, script));
  const out: Outcome = { access: '', script: `/real_media/${script}` };
  // The release files are never reached: any small file stands in.
  const stand = path.join(tempDir('media-msg-stand'), 'stand');
  await writeFile(stand, 'never booted\n');
  try {
    await withLab(
      tree,
      { kernel: stand, initrd: stand },
      async (lab) => {
        if (c.fault === 'unreachable') await Promise.all(lab.daemons.filter((d) => d.name === 'nginx').map((d) => d.stop()));
        out.result = await bootVm({
          firmware: c.firmware,
          mac: node.macs[0]!,
          ns: lab.ns,
          tap: lab.tap,
          workDir: lab.workDir,
          timeoutMs: LIMIT_MS[c.firmware],
          cdrom: path.join(tree.dir, medium.path),
          stopWhen: (raw) => {
            const s = flat(raw);
            if (c.fault === 'missing' && /is not reachable/.test(s)) return 'said not reachable';
            return (s.match(PAUSED[c.fault]) ?? []).length >= c.rounds ? 'paused' : undefined;
          },
        });
        out.access = await lab.accessLog();
      },
      { dnsmasq: false, addresses: [`${GATEWAY}/24`] },
    );
  } catch (err) {
    out.error = err;
  }
  return out;
}

const outcome = lazyBoots(
  CASES,
  async () => ({ bios: await siteFor('bios'), uefi: await siteFor('uefi') }),
  (c, trees) => runCase(c, trees[c.firmware]),
);

function report(o: Outcome): string {
  const r = o.result;
  return [
    o.error ? `error: ${o.error instanceof Error ? (o.error.stack ?? o.error.message) : String(o.error)}` : '',
    r ? `QEMU: ${r.cmd}\nserial (last 4000 chars):\n${cleanSerial(r.serial).slice(-4000)}` : 'no boot result',
    `nginx access log:\n${o.access}`,
  ].join('\n');
}

/** Seconds since the epoch of a combined-format time (`27/Nov/2026:01:02:03 +0000`). */
function seconds(time: string): number {
  const m = /^(\d+)\/(\w+)\/(\d+):(\d+):(\d+):(\d+)/.exec(time)!;
  return Date.parse(`${m[2]} ${m[1]} ${m[3]} ${m[4]}:${m[5]}:${m[6]} GMT`) / 1000;
}

for (const c of CASES) {
  test(c.title, async () => {
    if (!(
      requireRoot() &&
      mediaLoadersAvailable() &&
      requireProgram('qemu-system-x86_64', 'nginx', 'ip', '/usr/share/OVMF/OVMF_CODE_4M.fd')
    ))
      return;
    const o = await outcome(c.id);
    assert.ok(o.result && !o.error, report(o));
    assert.is(o.result!.stoppedBecause, 'paused', report(o));
    const serial = flat(o.result!.serial);
    const said404 = new RegExp(
      `harvgen: ${SERVER.replace(/[./]/g, '\\$&')} answered 404 \\(not found\\) for the script of net0 \\([0-9a-f:]+\\): ` +
        'the boot server has no script for this node\\. Build the site and deploy its whole tree there again, or make a new image if this one is older than the tree',
    );
    if (c.fault === 'missing') {
      assert.not.match(serial, /is not reachable/, report(o));
      assert.match(serial, said404, report(o));
      const waits = [...serial.matchAll(PAUSED.missing)].map((m) => Number(m[1]));
      assert.equal(waits, Array(c.rounds).fill(MISSING_WAIT), report(o));
      // nginx answered the node's script 404, from the node's own address.
      const asked = requests(o.access).filter((q) => q.path === o.script);
      assert.ok(asked.length >= c.rounds && asked.every((q) => q.status === 404), report(o));
      if (c.rounds >= 2) {
        const times = o.access
          .split('\n')
          .filter((l) => l.includes(`"GET ${o.script} `))
          .map((l) => seconds(/\[([^\]]+)\]/.exec(l)![1]!));
        const gap = times[1]! - times[0]!;
        assert.ok(gap >= MISSING_WAIT - 1, `the second fetch came ${gap} s after the first, not after ${MISSING_WAIT} s\n${report(o)}`);
        console.log(`media-messages: ${c.id}: the script asked again ${gap} s after its 404 (wait ${MISSING_WAIT} s)`);
      }
    } else {
      assert.match(serial, `harvgen: ${SERVER} is not reachable from net0`, report(o));
      assert.not.match(serial, /404/, report(o));
      assert.equal(
        [...serial.matchAll(PAUSED.unreachable)].map((m) => Number(m[1])),
        [RETRY_DELAY],
        report(o),
      );
    }
  });
}

test.run();
