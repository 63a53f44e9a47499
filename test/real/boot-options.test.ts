// The boot options of issue 11 that QEMU cannot boot here, through the real programs' own
// checks: a site with Secure Boot (shim and signed loader are the site's; Debian has no signed
// iPXE), UEFI HTTP boot and unknown machines joining, built from location_x. dnsmasq --test
// on the HTTPClient and shim lines, virt-xml-validate and libvirt's parser on the Secure Boot
// lab domains and network, nginx -t on the server block with the binaries and join config.
// The booted proofs of the same options are in test/real/lifecycle.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { build } from '../../src/index.ts';
import { exampleSite } from '../helpers/example.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { dnsmasqTest } from './helpers/dnsmasq.ts';
import { withNetns } from './helpers/netns.ts';
import { prepareNginx, nginxTest, nginxFailure } from './helpers/nginx.ts';
import { describe, run } from './helpers/proc.ts';

let built: Promise<string> | undefined;

/** location_x with Secure Boot, HTTP boot, unknown: join and install-once nodes; its tree dir. */
function tree(): Promise<string> {
  built ??= (async () => {
    const doc = exampleSite();
    doc.boot = {
      ...doc.boot,
      uefi_loader: 'snponly.efi',
      http_boot: true,
      unknown: 'join',
      secure_boot: { shim: 'shimx64.efi', loader: 'grubx64.efi' },
    };
    doc.defaults = { ...doc.defaults, state: 'install-once' };
    // An arm64 node: client architecture 11 and HTTP boot 19 lines, an aarch64 lab domain.
    (doc.nodes as unknown as Record<string, unknown>[]).push({ hostname: 'hv-arm', mac: '52:54:00:aa:bb:a4', arch: 'arm64' });
    const dir = path.join(tempDir('boot-options'), 'site');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'site.yaml'), stringify(doc));
    const out = path.join(tempDir('boot-options-out'), 'out');
    const r = await build({ sites: [dir], outDir: out });
    if (!r.ok) throw new Error(`build failed:\n${r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n')}`);
    return path.join(out, 'location_x');
  })();
  return built;
}

test('dnsmasq --test accepts the HTTP boot and Secure Boot shim lines', async () => {
  if (!requireProgram('dnsmasq')) return;
  const file = path.join(await tree(), 'dnsmasq/harvgen.conf');
  const text = await readFile(file, 'utf8');
  assert.match(text, /^dhcp-boot=tag:harvgen-location_x,tag:!ipxe,tag:efihttp,http:\/\/192\.168\.122\.1\/shimx64\.efi$/m);
  assert.match(text, /^dhcp-boot=tag:harvgen-location_x,tag:!ipxe,tag:efihttparm64,http:\/\/192\.168\.122\.1\/ipxe-arm64\.efi$/m);
  const r = await dnsmasqTest(file);
  assert.ok(r.code === 0 && /syntax check OK/.test(r.stdout + r.stderr), `dnsmasq rejected it:\n${describe(r)}\n${text}`);
});

test('virt-xml-validate and libvirt accept the Secure Boot lab domains and the HTTP boot network', async () => {
  if (!requireProgram('virt-xml-validate', 'xmllint', 'virsh')) return;
  const dir = path.join(await tree(), 'libvirt');
  const domains = (await readdir(dir)).filter((f) => f.endsWith('.xml') && f !== 'network.xml').map((f) => path.join(dir, f));
  assert.is(domains.length, 4);
  const failures: string[] = [];
  for (const [file, kind] of [[path.join(dir, 'network.xml'), 'network'], ...domains.map((d) => [d, 'domain'])] as const) {
    const r = await run(['virt-xml-validate', file, kind], { timeoutMs: 20_000 });
    if (r.code !== 0) failures.push(describe(r));
  }
  assert.equal(failures, []);
  assert.match(
    await readFile(
      domains.find((d) => d.endsWith('hv-1.xml'))!,
      'utf8',
    ),
    /<feature enabled='yes' name='secure-boot'\/>/,
  );
  assert.match(
    await readFile(
      domains.find((d) => d.endsWith('hv-arm.xml'))!,
      'utf8',
    ),
    /<type arch='aarch64' machine='virt'>/,
  );
  const cmds = [`net-define ${path.join(dir, 'network.xml')}`, ...domains.map((d) => `define ${d}`)].join(' ; ');
  const r = await run(['virsh', '-q', '-c', 'test:///default', cmds], { timeoutMs: 20_000 });
  assert.ok(r.code === 0 && !/error/i.test(r.stderr), `virsh rejected the XML:\n${describe(r)}`);
});

test('nginx -t accepts the server block serving the boot binaries and the unknown-machine config', async () => {
  if (!requireProgram('nginx', 'ip') || !requireRoot()) return;
  const dir = await tree();
  const snippet = await readFile(path.join(dir, 'nginx/harvgen.conf'), 'utf8');
  for (const loc of ['/shimx64.efi', '/grubx64.efi', '/unknown/join.yaml']) assert.ok(snippet.includes(`location = ${loc} {`), loc);
  const prefix = tempDir('nginx-boot-options');
  const setup = await prepareNginx({ prefix, snippet, rewrite: { treeDir: dir, artifactsDir: path.join(prefix, 'artifacts') } });
  const r = await withNetns('ngxbo', async (ns) => {
    await ns.sh(['ip', 'addr', 'add', '192.168.122.1/32', 'dev', 'lo']);
    return nginxTest(setup, ns);
  });
  assert.is(r.code, 0, await nginxFailure(setup, r));
});

test.run();
