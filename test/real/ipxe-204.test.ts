// Why the generated nginx answers the report URLs with `200 ""` (Content-Length: 0) and not 204:
// Debian's iPXE (`ipxe.lkrn`, QEMU's -kernel, its script as the initrd, a static address, no
// DHCP) fetches a 200 with an empty body, then a 204, from a real nginx in the test's namespace,
// and the test times each fetch between the script's echoes. nginx's keepalive_timeout is set to
// KEEPALIVE_S here (its default is 75 s) to keep the test short; a fetch that waits for the
// connection to close then takes about that long.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { IPXE_DIR } from './helpers/lab.ts';
import { PLAIN_SERVER, withPlainNet } from './helpers/plain-net.ts';
import { bootVm, cleanSerial, type BootResult } from './helpers/qemu.ts';
import { startDaemon, waitFor } from './helpers/proc.ts';
import { tempDir } from '../helpers/tmp.ts';

const KEEPALIVE_S = 12;
const LIMIT_MS = 90_000;
/** The script's echoes, in order. */
const STEPS = ['HG-FETCH-200', 'HG-DONE-200', 'HG-DONE-204'] as const;

/** A minimal nginx: the report location's form (`return 200 ""`) and a 204, on the plain network's server address. */
function nginxConf(work: string): string {
  return `daemon off;
pid ${work}/nginx.pid;
error_log stderr;
events {}
http {
    access_log ${work}/access.log;
    keepalive_timeout ${KEEPALIVE_S}s;
    server {
        listen ${PLAIN_SERVER}:80;
        location = /r200 { return 200 ""; }
        location = /r204 { return 204; }
    }
}
`;
}

const SCRIPT = `#!ipxe
set net0/ip 192.168.57.20
set net0/netmask 255.255.255.0
ifopen net0
echo ${STEPS[0]}
imgfetch --name r200 http://${PLAIN_SERVER}/r200 ||
echo ${STEPS[1]}
imgfetch --name r204 http://${PLAIN_SERVER}/r204 ||
echo ${STEPS[2]}
`;

interface Measured {
  result: BootResult;
  /** When each echo was first seen (ms since the epoch; 0: never). */
  seen: Record<(typeof STEPS)[number], number>;
  access: string;
}

let boot: Promise<Measured> | undefined;
const measured = (): Promise<Measured> =>
  (boot ??= (async () => {
    const work = tempDir('ipxe-204');
    await writeFile(path.join(work, 'nginx.conf'), nginxConf(work));
    const script = path.join(work, 'fetch.ipxe');
    await writeFile(script, SCRIPT);
    return withPlainNet('ipxe204', work, [], async ({ ns, tap }) => {
      const nginx = startDaemon('nginx', ns.exec(['nginx', '-p', work, '-c', path.join(work, 'nginx.conf')]));
      try {
        const up = await waitFor(async () => (await ns.sh(['ss', '-Htln'])).includes(`${PLAIN_SERVER}:80`), 10_000, 100);
        if (!up) throw new Error(`nginx did not start\n${nginx.output()}`);
        const seen = { 'HG-FETCH-200': 0, 'HG-DONE-200': 0, 'HG-DONE-204': 0 };
        const result = await bootVm({
          firmware: 'bios',
          mac: '52:54:00:e3:00:01',
          ns,
          tap,
          workDir: work,
          timeoutMs: LIMIT_MS,
          directKernel: { kernel: path.join(IPXE_DIR, 'ipxe.lkrn'), initrd: script, append: 'imgexec <INITRD>' },
          stopWhen: (raw) => {
            const s = cleanSerial(raw).replace(/\n/g, '');
            for (const step of STEPS) if (s.includes(step)) seen[step] ||= Date.now();
            return seen['HG-DONE-204'] ? 'done' : undefined;
          },
        });
        const access = await readFile(path.join(work, 'access.log'), 'utf8').catch(() => '');
        return { result, seen, access };
      } finally {
        await nginx.stop();
      }
    });
  })());

const ready = (): boolean => requireRoot() && requireProgram('qemu-system-x86_64', 'dnsmasq', 'nginx', path.join(IPXE_DIR, 'ipxe.lkrn'));

/** Seconds between two echoes (undefined when either was not seen). */
const between = (m: Measured, from: (typeof STEPS)[number], to: (typeof STEPS)[number]): number | undefined =>
  m.seen[from] && m.seen[to] ? (m.seen[to] - m.seen[from]) / 1000 : undefined;
const report = (m: Measured): string =>
  `stopped: ${m.result.stoppedBecause ?? (m.result.timedOut ? 'time limit' : `QEMU exit ${m.result.exitCode}`)} after ${Math.round(m.result.ms / 1000)} s\n` +
  `--- serial (end) ---\n${cleanSerial(m.result.serial).slice(-1500)}\n--- access log ---\n${m.access}`;

test('iPXE fetches the generated report form (200 with an empty body) at once', async () => {
  if (!ready()) return;
  const m = await measured();
  const took = between(m, 'HG-FETCH-200', 'HG-DONE-200');
  console.log(`  200 "": ${took ?? '-'} s`);
  assert.match(m.access, /"GET \/r200 HTTP\/1\.1" 200 0 /, `nginx did not answer 200\n${report(m)}`);
  assert.ok(took !== undefined && took < 3, `the 200 fetch took ${took ?? 'forever'} s\n${report(m)}`);
});

test('iPXE waits on a 204 until nginx closes the idle connection (keepalive_timeout), though nginx answered at once', async () => {
  if (!ready()) return;
  const m = await measured();
  const took = between(m, 'HG-DONE-200', 'HG-DONE-204');
  console.log(`  204: ${took ?? '-'} s (keepalive_timeout ${KEEPALIVE_S} s)`);
  assert.match(m.access, /"GET \/r204 HTTP\/1\.1" 204 0 /, `nginx did not answer 204\n${report(m)}`);
  assert.ok(
    took !== undefined && took >= KEEPALIVE_S - 1 && took < KEEPALIVE_S + 6,
    `the 204 fetch took ${took ?? 'forever'} s\n${report(m)}`,
  );
});

test.run();
