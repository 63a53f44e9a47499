// The BareMetalHosts of `metal3.export` judged by baremetal-operator's own validation (its
// admission webhook's ValidateCreate, github.com/metal3-io/baremetal-operator/apis v0.10.1, built
// unpatched from the Go module proxy: test/oracle/bmh-validate, which also decodes every object
// strictly, so a field the API does not have is refused): the golden fixtures' hosts (Redfish and
// IPMI; a Secure Boot site's UEFISecureBoot hosts with install disks by serial, WWN, model, size
// and by id as root device hints) and the boot media fixture's (whose live ISO is the boot ISO:
// its SHA-256, in the file's header, checked against the deploy tree's bytes) are admitted.
// Mutations the operator refuses: a Redfish host without its boot MAC, a root device hint by id
// (deviceName), UEFISecureBoot on an IPMI BMC (both of which harvgen's check refuses too,
// METAL3_HOST_INVALID), a field the API lacks.
import { createHash } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { check } from '../../src/index.ts';
import { tempDir } from '../helpers/tmp.ts';
import { buildOracle } from './helpers/go.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { mediaLoaders, mediaLoadersAvailable } from './helpers/media-loaders.ts';
import { describe, run } from './helpers/proc.ts';
import { requireProgram } from './helpers/programs.ts';
import { buildFixtureTrees } from './helpers/tree.ts';

const GOLDEN = path.join(REPO_ROOT, 'test/fixtures/build/metal3/expected/metal3');
const GOLDEN_SB = path.join(REPO_ROOT, 'test/fixtures/build/metal3-secure-boot/expected/metal3');

let oracle: Promise<string> | undefined;
function validator(): Promise<string> {
  oracle ??= buildOracle('bmh-validate', path.join(tempDir('bmh-validate'), 'bmh-validate'));
  return oracle;
}

interface Verdict {
  file: string;
  kind: string;
  name: string;
  errors: string[];
}

/** baremetal-operator's verdict on each object of `files`. */
async function validate(files: readonly string[]): Promise<Verdict[]> {
  const r = await run([await validator(), ...files], { timeoutMs: 60_000 });
  assert.is(r.code, 0, describe(r));
  return JSON.parse(r.stdout) as Verdict[];
}

const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => path.join(dir, f));

test('baremetal-operator admits every BareMetalHost of the golden fixtures (Redfish with a system path and IPv6, IPMI, by-path hint; Secure Boot, hints by serial, WWN, model, size and by id)', async () => {
  if (!requireProgram('go')) return;
  const verdicts = await validate([...yamlFiles(GOLDEN), ...yamlFiles(GOLDEN_SB)]);
  const hosts = verdicts.filter((v) => v.kind === 'BareMetalHost');
  assert.equal(
    hosts.map((v) => v.name),
    ['m1', 'm2', 'm3', 's1', 's2', 's3', 's4', 's5', 's6'],
  );
  assert.equal(
    verdicts.filter((v) => v.errors.length > 0),
    [],
  );
  // What it admitted is what the Secure Boot site means (the webhook would admit UEFI as well).
  for (const f of yamlFiles(GOLDEN_SB).filter((x) => !x.endsWith('kustomization.yaml'))) {
    const host = parseYaml(readFileSync(f, 'utf8')) as { spec: { bootMode: string; rootDeviceHints: Record<string, unknown> } };
    assert.is(host.spec.bootMode, 'UEFISecureBoot', f);
    assert.is(host.spec.rootDeviceHints.deviceName, undefined, f);
  }
});

test("the boot media fixture's hosts: admitted, each image the node's boot ISO as a live-iso, its header giving the SHA-256 of the deploy tree's bytes", async () => {
  if (!requireProgram('go') || !mediaLoadersAvailable()) return;
  const dir = path.join(tempDir('metal3-media'), 'site');
  await cp(path.join(REPO_ROOT, 'test/fixtures/real/media'), dir, { recursive: true });
  const doc = parseYaml(await readFile(path.join(dir, 'site.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  doc.boot!.media_loaders = await mediaLoaders();
  doc.metal3 = { export: true };
  await writeFile(path.join(dir, 'site.yaml'), stringifyYaml(doc));
  const tree = (await buildFixtureTrees('metal3-media', { site: dir })).site;
  const files = yamlFiles(path.join(tree.dir, 'metal3'));
  const verdicts = await validate(files);
  assert.equal(
    verdicts.filter((v) => v.errors.length > 0),
    [],
  );
  for (const f of files.filter((x) => !x.endsWith('kustomization.yaml'))) {
    const text = readFileSync(f, 'utf8');
    const host = parseYaml(text) as { spec: { image: { url: string; checksum?: string; format: string } } };
    assert.is(host.spec.image.format, 'live-iso');
    // baremetal-operator hands a live ISO's URL alone to Ironic: no checksum is written for it to ignore.
    assert.is(host.spec.image.checksum, undefined);
    const served = host.spec.image.url.replace(/^http:\/\/[^/]+\/real_media\//, '');
    const bytes = readFileSync(path.join(tree.dir, served));
    const said = /^# Its image's SHA-256: ([0-9a-f]{64}) /m.exec(text)?.[1];
    assert.is(said, createHash('sha256').update(bytes).digest('hex'), `${f}: the SHA-256 of ${served}`);
  }
});

test('mutations baremetal-operator refuses: a Redfish host without its boot MAC, a root device hint by id, UEFISecureBoot on IPMI, a field the API lacks', async () => {
  if (!requireProgram('go')) return;
  const dir = tempDir('metal3-mutants');
  const m1 = readFileSync(path.join(GOLDEN, 'm1.yaml'), 'utf8');
  const m3 = readFileSync(path.join(GOLDEN, 'm3.yaml'), 'utf8');
  const mutants: [string, string, RegExp][] = [
    ['no-mac.yaml', m1.replace(/\n {2}bootMACAddress: .*\n/, '\n'), /requires a BootMACAddress/],
    [
      'by-id.yaml',
      m1.replace('deviceName: /dev/sda', 'deviceName: /dev/disk/by-id/ata-os'),
      /root device hint must be path in \/dev\/ or \/dev\/disk\/by-path\//,
    ],
    ['secure-boot-ipmi.yaml', m3.replace('bootMode: UEFI\n', 'bootMode: UEFISecureBoot\n'), /BMC driver ipmi does not support secure boot/],
    ['unknown-field.yaml', m1.replace('  online: true\n', '  online: true\n  bootMac: 52:54:00:60:00:01\n'), /unknown field/],
  ];
  for (const [name, text] of mutants) {
    assert.is.not(text, name === 'secure-boot-ipmi.yaml' ? m3 : m1, `${name}: the mutation applied`);
    await writeFile(path.join(dir, name), text);
  }
  const verdicts = await validate(mutants.map(([name]) => path.join(dir, name)));
  for (const [name, , why] of mutants) {
    const v = verdicts.find((x) => x.file.endsWith(name))!;
    assert.ok(
      v.errors.some((e) => why.test(e)),
      `${name}: ${JSON.stringify(v.errors)}`,
    );
  }
  // harvgen refuses the by-id hint before the operator does.
  const site = path.join(tempDir('metal3-by-id'), 'site');
  await cp(path.join(REPO_ROOT, 'test/fixtures/build/metal3/site'), site, { recursive: true });
  const yaml = path.join(site, 'site.yaml');
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('    device: /dev/sda', '    device: /dev/disk/by-id/ata-os'));
  const r = await check({ sites: [site] });
  assert.ok(
    r.diagnostics.some((d) => d.code === 'METAL3_HOST_INVALID' && /by-id\/ata-os/.test(d.message)),
    JSON.stringify(r.diagnostics.map((d) => d.code)),
  );
  // ... and the IPMI node of a Secure Boot site, which the operator refuses as UEFISecureBoot.
  const sb = path.join(tempDir('metal3-sb-ipmi'), 'site');
  await cp(path.join(REPO_ROOT, 'test/fixtures/build/metal3/site'), sb, { recursive: true });
  const sbYaml = path.join(sb, 'site.yaml');
  await writeFile(sbYaml, (await readFile(sbYaml, 'utf8')).replace('  firmware: uefi\n', '  firmware: uefi\n  secure_boot: {}\n'));
  const refused = (await check({ sites: [sb] })).diagnostics.filter((d) => d.code === 'METAL3_HOST_INVALID');
  assert.is(refused.length, 1, JSON.stringify(refused.map((d) => d.message)));
  assert.match(refused[0]!.message, /^node m3 boots with Secure Boot/);
  assert.match(
    refused[0]!.message,
    /IPMI: baremetal-operator refuses bootMode UEFISecureBoot for IPMI \("BMC driver ipmi does not support secure boot"\)/,
  );
});

test.run();
