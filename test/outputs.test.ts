// Output families (`outputs:`): a site without a `lab:` section writes no lab files and no
// forward units, and every family a site does not need is switched off in one place, its files
// neither written nor listed in manifest.json, while the boot scripts, configs and manifest stay.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { compileSite } from '../src/index.ts';
import { explainNode, findNode } from '../src/explain/index.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

type Doc = Record<string, unknown>;

/** location_x (a lab site with a VIP) with a BMC on its first node, changed by `change`. */
function site(change: (doc: Doc) => void, label: string): string {
  const doc = exampleSite() as Doc;
  (doc.nodes as Doc[])[0]!.bmc = { address: '192.168.122.250' };
  change(doc);
  const dir = join(tempDir(label), 'site');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

/** The paths of the site's tree and the paths manifest.json lists. */
async function tree(dir: string): Promise<{ paths: string[]; listed: string[] }> {
  const r = await compileSite(dir);
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`),
    [],
  );
  const paths = r.artifacts!.map((a) => a.path);
  const manifest = JSON.parse(r.artifacts!.find((a) => a.path === 'manifest.json')!.contents as string) as { files: { path: string }[] };
  return { paths, listed: manifest.files.map((f) => f.path) };
}

const FAMILIES: Record<string, RegExp> = {
  lab: /^libvirt\//,
  forward: /^systemd\//,
  dhcp: /^dnsmasq\//,
  nginx: /^nginx\//,
  embed: /^embed\.ipxe$/,
  oci: /^oci\//,
  fetch: /^artifacts\/fetch\.sh$/,
  bmc: /^bmc\//,
};
/** Files every tree keeps whatever `outputs:` says. */
const ALWAYS = [/^boot\.ipxe$/, /^unknown\.ipxe$/, /^ipxe\//, /^harvester\//, /^manifest\.json$/];

test('the lab site writes every family by default', async () => {
  const { paths } = await tree(site(() => undefined, 'outputs-all'));
  for (const [family, re] of Object.entries(FAMILIES))
    assert.ok(
      paths.some((p) => re.test(p)),
      `${family} is written`,
    );
});

test('a site without `lab:` writes no lab files and no forward units, and explain shows no lab.* values', async () => {
  const dir = site((doc) => delete doc.lab, 'outputs-nolab');
  const { paths, listed } = await tree(dir);
  for (const re of [FAMILIES.lab!, FAMILIES.forward!]) {
    assert.equal(
      paths.filter((p) => re.test(p)),
      [],
      `${re} not written`,
    );
    assert.equal(
      listed.filter((p) => re.test(p)),
      [],
      `${re} not listed`,
    );
  }
  for (const family of ['dhcp', 'nginx', 'embed', 'oci', 'fetch', 'bmc'])
    assert.ok(
      paths.some((p) => FAMILIES[family]!.test(p)),
      `${family} kept`,
    );
  const keys = async (d: string) => {
    const r = await compileSite(d);
    const node = findNode(r.model!, 'hv-1');
    assert.ok(node, 'explain finds the node');
    return explainNode(r, node!).values.map((v) => v.key);
  };
  const without = await keys(dir);
  assert.ok(without.length > 0, 'explain answers');
  assert.equal(
    without.filter((k) => k.startsWith('lab.')),
    [],
  );
  // A lab site's explain does show them.
  assert.ok((await keys(site(() => undefined, 'outputs-lab-explain'))).includes('lab.memory_mib'));
});

test('`forward.enabled: true` on a site without `lab:` still writes the units; `outputs.forward` wins over it', async () => {
  const on = await tree(
    site((doc) => {
      delete doc.lab;
      doc.forward = { enabled: true };
    }, 'outputs-fwd-on'),
  );
  assert.ok(on.paths.some((p) => FAMILIES.forward!.test(p)));
  const off = await tree(
    site((doc) => {
      doc.forward = { enabled: true };
      doc.outputs = { forward: false };
    }, 'outputs-fwd-off'),
  );
  assert.not.ok(off.paths.some((p) => FAMILIES.forward!.test(p)));
});

for (const family of Object.keys(FAMILIES)) {
  test(`outputs.${family}: false leaves out that family only`, async () => {
    const { paths, listed } = await tree(site((doc) => (doc.outputs = { [family]: false }), `outputs-${family}`));
    const re = FAMILIES[family]!;
    assert.equal(
      paths.filter((p) => re.test(p)),
      [],
      'not written',
    );
    assert.equal(
      listed.filter((p) => re.test(p)),
      [],
      'not listed',
    );
    for (const [other, o] of Object.entries(FAMILIES)) {
      // The forward units follow the lab unless asked for (`forward.enabled`, `outputs.forward`).
      if (other !== family && !(family === 'lab' && other === 'forward'))
        assert.ok(
          paths.some((p) => o.test(p)),
          `${other} kept`,
        );
    }
    for (const re of ALWAYS)
      assert.ok(
        paths.some((p) => re.test(p)),
        `${re} kept`,
      );
  });
}

test.run();
