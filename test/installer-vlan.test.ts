// What the review of the tagged-VLAN step found, kept fixed: a node booting its own ISO installs
// untagged (its loader cannot tag, MEDIA_VLAN_UNTAGGED), whatever `interfaces` names, while the
// same node booting from the network tags its installer; with `network.dhcp_servers: several` a
// DHCP node's gateway goes onto its installer's kernel line, so it is checked like a static one.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check, compileSite } from '../src/index.ts';
import { mediaSite } from './helpers/media.ts';
import { tempDir } from './helpers/tmp.ts';

const kernelLine = (text: string) => /^kernel .*$/m.exec(text)?.[0] ?? '';

test('a tagged node booting its ISO installs untagged; the same node booting from the network tags its installer', async () => {
  const tagged = (medium: 'iso' | 'network') =>
    mediaSite((d) => {
      const n = d.nodes[0] as Record<string, unknown>;
      n.vlan = 100;
      n.interfaces = [{ name: 'enp1s0', mac: '52:54:00:4d:00:01' }];
      if (medium === 'network') n.medium = 'network';
    });
  const script = async (dir: string) => {
    const r = await compileSite(dir);
    assert.ok(r.artifacts, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
    return kernelLine(r.artifacts!.find((a) => a.path === 'ipxe/52-54-00-4d-00-01.ipxe')!.contents as string);
  };
  const iso = await script(tagged('iso'));
  assert.ok(iso.includes('harvester.install.config_url='), iso);
  assert.not.match(iso, /vlan=/);
  assert.not.match(iso, /vlan100/);
  const network = await script(tagged('network'));
  assert.match(network, 'vlan=vlan100:enp1s0');
});

test('several DHCP servers: a DHCP node whose gateway lies outside its subnet is refused, as a static one is', async () => {
  const dir = join(tempDir('installer-vlan'), 'site');
  cpSync(join(import.meta.dirname, 'fixtures/check/node-ip-needed/good'), dir, { recursive: true });
  const yaml = readFileSync(join(dir, 'site.yaml'), 'utf8').replace('    ip: 10.0.0.12\n', '    ip: 10.0.0.12\n    gateway: 192.168.1.1\n');
  writeFileSync(join(dir, 'site.yaml'), yaml);
  const codes = async () => (await check({ sites: [dir] })).diagnostics.map((d) => d.code);
  assert.ok((await codes()).includes('NODE_GATEWAY_OUTSIDE'));
  writeFileSync(join(dir, 'site.yaml'), yaml.replace('  dhcp_servers: several\n', ''));
  assert.not.ok((await codes()).includes('NODE_GATEWAY_OUTSIDE'), 'one DHCP server: the DHCP node never uses it');
});

test.run();
