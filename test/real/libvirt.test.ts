// libvirt's own checks on the generated libvirt/*.xml of every test site: the RelaxNG schemas
// (virt-xml-validate, needs xmllint) and libvirt's parser through the daemon-less test driver
// (virsh -c test:///default), which also catches semantic errors the schemas miss.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { requireProgram } from './helpers/programs.ts';
import { run, describe, type RunResult } from './helpers/proc.ts';
import { libvirtFiles } from './helpers/boot-log.ts';
import { getTrees, copyTree, type SiteKey } from './helpers/tree.ts';

const SITES: SiteKey[] = ['location_x', 'location_y', 'bios', 'uefi'];

function validate(file: string, kind: 'network' | 'domain'): Promise<RunResult> {
  return run(['virt-xml-validate', file, kind], { timeoutMs: 20_000 });
}

/** net-define + define in one virsh run against the in-process test driver. */
function virshDefine(network: string, domains: string[]): Promise<RunResult> {
  const cmds = [`net-define ${network}`, ...domains.map((d) => `define ${d}`)].join(' ; ');
  return run(['virsh', '-q', '-c', 'test:///default', cmds], { timeoutMs: 20_000 });
}

/** A site without `lab:` has no libvirt files (asserted), so nothing for libvirt to check. */
function noLab(tree: { dir: string; input: Record<string, unknown>; label: string }): boolean {
  const outputs = tree.input.outputs as { lab?: boolean } | undefined;
  if (outputs?.lab ?? tree.input.lab !== undefined) return false;
  assert.not.ok(existsSync(path.join(tree.dir, 'libvirt')), `${tree.label}: no lab: section, yet libvirt/ was written`);
  return true;
}

for (const key of SITES) {
  test(`virt-xml-validate accepts network.xml and every domain XML of ${key}`, async () => {
    if (!requireProgram('virt-xml-validate', 'xmllint')) return;
    const tree = (await getTrees())[key];
    if (noLab(tree)) return;
    const { network, domains } = await libvirtFiles(tree.dir);
    const hostnames = tree.manifest.nodes.map((n) => n.hostname).sort();
    assert.equal(domains.map((d) => path.basename(d, '.xml')).sort(), hostnames, `${tree.label}: expected one domain XML per node`);
    const failures: string[] = [];
    for (const [file, kind] of [[network, 'network'] as const, ...domains.map((d) => [d, 'domain'] as const)]) {
      const r = await validate(file, kind);
      if (r.code !== 0) failures.push(describe(r));
    }
    assert.equal(failures, [], `${tree.label}: libvirt schema validation failed:\n${failures.join('\n\n')}`);
  });

  test(`libvirt's parser (virsh test:///default) defines the network and every domain of ${key}`, async () => {
    if (!requireProgram('virsh')) return;
    const tree = (await getTrees())[key];
    if (noLab(tree)) return;
    const { network, domains } = await libvirtFiles(tree.dir);
    const r = await virshDefine(network, domains);
    assert.ok(r.code === 0 && !/error/i.test(r.stderr), `${tree.label}: virsh rejected the XML:\n${describe(r)}`);
  });
}

test('virt-xml-validate accepts the libvirt XML of every golden build fixture', async () => {
  if (!requireProgram('virt-xml-validate', 'xmllint')) return;
  const root = path.join(import.meta.dirname, '../fixtures/build');
  const failures: string[] = [];
  let n = 0;
  for (const c of await readdir(root)) {
    const dir = path.join(root, c, 'expected/libvirt');
    // Only the fixtures with a `lab:` section have lab files.
    if (!existsSync(dir)) continue;
    for (const f of (await readdir(dir)).filter((x) => x.endsWith('.xml'))) {
      n++;
      const r = await validate(path.join(dir, f), f === 'network.xml' ? 'network' : 'domain');
      if (r.code !== 0) failures.push(describe(r));
    }
  }
  assert.ok(n > 0, 'no fixture XML found');
  assert.equal(failures, []);
});

// --- mutations ---------------------------------------------------------------------------

test('mutation: a bad MAC in a domain fails virt-xml-validate', async () => {
  if (!requireProgram('virt-xml-validate', 'xmllint')) return;
  const tree = await copyTree((await getTrees()).location_x, 'libvirt-mac');
  const file = path.join(tree.dir, 'libvirt/hv-1.xml');
  await writeFile(file, (await readFile(file, 'utf8')).replace(/mac address='[^']+'/, "mac address='52:54:00:aa:bb:zz'"));
  const r = await validate(file, 'domain');
  assert.ok(r.code !== 0, `a bad MAC validated:\n${describe(r)}`);
});

test('mutation: a DHCP range outside the network passes the schema but not libvirt', async () => {
  if (!requireProgram('virt-xml-validate', 'xmllint', 'virsh')) return;
  const tree = await copyTree((await getTrees()).location_x, 'libvirt-range');
  const file = path.join(tree.dir, 'libvirt/network.xml');
  await writeFile(file, (await readFile(file, 'utf8')).replace(/<range start='192\.168\.122\.(\d+)'/, "<range start='192.168.123.$1'"));
  const schema = await validate(file, 'network');
  assert.is(schema.code, 0, `expected the schema to miss this (it is structural only):\n${describe(schema)}`);
  const r = await virshDefine(file, []);
  assert.ok(r.code !== 0, `libvirt accepted a range outside its network:\n${describe(r)}`);
});

test.run();
