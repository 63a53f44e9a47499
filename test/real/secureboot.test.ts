// Secure Boot, the firmware side, proven with real signed files (issue 18, item 3): OVMF with
// Secure Boot on and Microsoft's keys enrolled boots a machine from the generated dnsmasq config
// (PXE over TFTP) and from the generated nginx (UEFI HTTP boot) of a site with
// `secure_boot: { shim: shimx64.efi, loader: grubx64.efi }`. The files are Debian's: shim-signed's
// Microsoft-signed shim, which trusts Debian's key and loads grubx64.efi, and grub-efi-amd64-signed's
// Debian-signed network GRUB under that name (scripts/fetch-secureboot.sh). GRUB's banner on the
// serial console means the firmware verified the shim and the shim verified the loader.
// Mutation: an unsigned loader (Debian's ipxe.efi) under the loader's name is refused by the shim.
//
// Not provable here: the iPXE half (its `shim` command, then SUSE's shim and the SUSE-signed
// installer kernel) needs iPXE v2.0.0 signed by a key the firmware trusts, which no Debian package
// has; the node scripts' `shim` line is checked as text in test/lifecycle.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { requireProgram, requireRoot, requireFetched } from './helpers/programs.ts';
import { ensureKernel, buildInitramfs, REPO_ROOT } from './helpers/initramfs.ts';
import { withLab, IPXE_DIR } from './helpers/lab.ts';
import { bootVm, cleanSerial, type BootResult } from './helpers/qemu.ts';
import { buildFixtureTrees, type SiteTree } from './helpers/tree.ts';
import { tempDir } from '../helpers/tmp.ts';

const SIGNED = path.join(REPO_ROOT, '.tmp/real/secureboot');
const MAC = '52:54:00:5b:00:01';
const LIMIT_MS = 150_000;
const GRUB = 'Welcome to GRUB!';
const REFUSED = /Verification failed|Security Violation|Access Denied/;

function present(): boolean {
  if (
    !requireProgram(
      'qemu-system-x86_64',
      'nginx',
      'dnsmasq',
      'ip',
      '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd',
      '/usr/share/OVMF/OVMF_VARS_4M.ms.fd',
    ) ||
    !requireProgram('/usr/lib/ipxe/snponly.efi', '/usr/lib/ipxe/ipxe.efi') ||
    !requireRoot()
  )
    return false;
  const missing = existsSync(path.join(SIGNED, 'VERSION')) ? [] : [SIGNED];
  return requireFetched(missing, 'Debian signed shim/GRUB missing: run scripts/fetch-secureboot.sh');
}

let built: Promise<SiteTree> | undefined;

/** A Secure Boot site whose binaries directory holds the signed pair (for HTTP boot) and the site's loader. */
function site(): Promise<SiteTree> {
  built ??= (async () => {
    const root = tempDir('secureboot-site');
    const bin = path.join(root, 'bin');
    mkdirSync(bin);
    copyFileSync(path.join(SIGNED, 'shimx64.efi'), path.join(bin, 'shimx64.efi'));
    copyFileSync(path.join(SIGNED, 'grubx64.efi'), path.join(bin, 'grubx64.efi'));
    copyFileSync(path.join(IPXE_DIR, 'snponly.efi'), path.join(bin, 'snponly.efi'));
    const dir = path.join(root, 'site');
    mkdirSync(dir);
    const doc = {
      site: 'real_sb',
      harvester: { version: 'v1.4.1', artifacts: 'http://192.168.122.1/sb/artifacts' },
      boot: {
        server: 'http://192.168.122.1/sb',
        firmware: 'uefi',
        console: ['tty1', 'ttyS0,115200n8'],
        skipchecks: true,
        http_boot: true,
        ipxe_binaries: bin,
        secure_boot: { shim: 'shimx64.efi', loader: 'grubx64.efi' },
      },
      network: {
        cidr: '192.168.122.0/24',
        gateway: '192.168.122.1',
        dns: ['192.168.122.1'],
        dhcp_range: '192.168.122.100-192.168.122.200',
      },
      cluster: { vip: '192.168.122.10', token: 'real-sb-token', password: 'harvgen-test' },
      defaults: { install: { device: '/dev/vda' } },
      nodes: [{ hostname: 'sb-1', mac: MAC, ip: '192.168.122.61' }],
    };
    writeFileSync(path.join(dir, 'site.yaml'), stringify(doc));
    return (await buildFixtureTrees('secureboot', { sb: dir })).sb;
  })();
  return built;
}

interface Run {
  result: BootResult;
  dnsmasq: string;
  access: string;
}

async function boot(via: 'pxe' | 'http', loader: string): Promise<Run> {
  const tree = await site();
  const kernel = await ensureKernel();
  const artifacts = { kernel: kernel.vmlinuz, initrd: await buildInitramfs(kernel) };
  return withLab(
    tree,
    artifacts,
    async (lab) => {
      const result = await bootVm({
        firmware: 'uefi',
        secureBoot: true,
        mac: MAC,
        ns: lab.ns,
        tap: lab.tap,
        workDir: lab.workDir,
        timeoutMs: LIMIT_MS,
        ovmf: via === 'http' ? { IPv6Support: 'n', IPv4PXESupport: 'n' } : { IPv6Support: 'n' },
        stopWhen: (raw) => {
          const s = cleanSerial(raw);
          if (s.includes(GRUB)) return 'the loader (GRUB) started';
          if (REFUSED.test(s)) return 'a signature check refused a file';
          if (/iPXE \d/.test(s)) return 'an iPXE started';
          return undefined;
        },
      });
      return { result, dnsmasq: lab.dnsmasqLog(), access: await lab.accessLog() };
    },
    { tftp: { 'shimx64.efi': path.join(SIGNED, 'shimx64.efi'), 'grubx64.efi': loader } },
  );
}

const sent = (log: string) => [...log.matchAll(/sent \S*?([^/\s]+) to /g)].map((m) => m[1]!);
const show = (r: Run) =>
  `${r.result.ms} ms, stopped: ${r.result.stoppedBecause ?? 'no'}\n--- serial ---\n${cleanSerial(r.result.serial).split('\n').slice(-60).join('\n')}\n--- TFTP sent: ${sent(r.dnsmasq).join(', ')}\n--- nginx ---\n${r.access}`;

test('the generated DHCP config (PXE) gets OVMF with Secure Boot on to run the Microsoft-signed shim, which runs the Debian-signed loader', async () => {
  if (!present()) return;
  const r = await boot('pxe', path.join(SIGNED, 'grubx64.efi'));
  console.log(`  boot secureboot-pxe: ${(r.result.ms / 1000).toFixed(1)} s`);
  const files = sent(r.dnsmasq);
  assert.ok(files.indexOf('shimx64.efi') >= 0 && files.indexOf('grubx64.efi') > files.indexOf('shimx64.efi'), `TFTP order:\n${show(r)}`);
  assert.is(r.result.stoppedBecause, 'the loader (GRUB) started', show(r));
});

test('UEFI HTTP boot from the generated nginx: the same chain, both files over HTTP', async () => {
  if (!present()) return;
  const r = await boot('http', path.join(SIGNED, 'grubx64.efi'));
  console.log(`  boot secureboot-http: ${(r.result.ms / 1000).toFixed(1)} s`);
  assert.is(sent(r.dnsmasq).length, 0, `TFTP was used:\n${show(r)}`);
  assert.match(r.access, /"GET \/sb\/shimx64\.efi HTTP\/1\.1" 200 /, show(r));
  assert.match(r.access, /"GET \/+sb\/+grubx64\.efi HTTP\/1\.1" 200 /, show(r));
  assert.is(r.result.stoppedBecause, 'the loader (GRUB) started', show(r));
});

test("mutation: an unsigned loader under the loader's name (Debian's ipxe.efi) is refused by the shim", async () => {
  if (!present()) return;
  const r = await boot('pxe', path.join(IPXE_DIR, 'ipxe.efi'));
  console.log(`  boot secureboot-unsigned: ${(r.result.ms / 1000).toFixed(1)} s`);
  assert.ok(sent(r.dnsmasq).includes('grubx64.efi'), `the shim never asked for its loader:\n${show(r)}`);
  assert.is(r.result.stoppedBecause, 'a signature check refused a file', show(r));
  assert.not.ok(cleanSerial(r.result.serial).includes(GRUB));
});

test.run();
