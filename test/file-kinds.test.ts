// The one declaration of a node file's name (src/derive/file-kinds.ts), read both ways: every
// declared kind's name, plain and keyed, reads back to its kind and owner; LAYOUT's names are the
// declaration's; and the recipe: a copy of the table with one more kind, and the layout names it,
// `status` counts a request of it for its node and as its kind, publish puts it into its node's
// part and verify knows its plain name, with no other change.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DNSMASQ_HOST_FILE,
  EVENT_PATH,
  FILE_KINDS,
  INSTALL_EVENTS,
  OWNER,
  shapedKind,
  TAG,
  withTag,
  type FileKind,
} from '../src/derive/file-kinds.ts';
import { nameReader, servedForms, treeForms } from '../src/derive/read-names.ts';
import { LAYOUT } from '../src/derive/layout.ts';
import { MASKED_TAG, nodeFilePath, nodeScriptPath } from '../src/derive/file-names.ts';
import { compileModel } from '../src/pipeline.ts';
import { SiteTally } from '../src/status/tally.ts';
import type { LogRequest } from '../src/status/log.ts';
import { nodeOwner } from '../src/publish/artifact.ts';
import { plainDataOf } from '../src/verify/manifest.ts';
import type { SiteModel } from '../src/model/index.ts';
import { site, T0 } from './helpers/status.ts';

const MAC = '52:54:00:aa:bb:01';
const TAG_HEX = 'a1'.repeat(16);

/** An owner and the details to name for each kind. */
function samples(kind: FileKind): { owner: string; details: readonly string[] } {
  const owner = kind.owner === 'mac' ? MAC : kind.owner === 'shared' ? 'shared.boot' : 'hv-1';
  if (kind === EVENT_PATH) return { owner, details: INSTALL_EVENTS };
  if (kind === DNSMASQ_HOST_FILE) return { owner, details: ['location_x'] };
  if (kind.name === 'medium' || kind.name === 'shared-medium') return { owner, details: ['iso', 'img'] };
  return { owner, details: [''] };
}

test('every declared kind reads its own names back: plain and keyed, to its kind, owner and detail', () => {
  const reader = nameReader({ root: '', forms: (k) => (k.keyed ? [true, false] : [false]) });
  for (const kind of FILE_KINDS) {
    const { owner, details } = samples(kind);
    for (const d of details) {
      const plain = kind.path(owner, d);
      const forms = kind.keyed ? [undefined, TAG_HEX, MASKED_TAG] : [undefined];
      for (const tag of forms) {
        const path = kind.path(owner, d, tag);
        // The tag goes where the keyed names have always put it.
        assert.is(path, withTag(plain, tag), `${kind.name}: ${path}`);
        // A directory's name (a seed's) is read by its files.
        const entry = kind.format?.entries?.[0] ?? '';
        const got = reader.read(`${path}${entry}`);
        assert.ok(got, `${kind.name}: ${path}${entry} is read back`);
        assert.is(got.kind.name, kind.name, path);
        assert.is(got.owner, owner, path);
        assert.is(got.tagged, tag !== undefined, path);
        assert.is(got.detail, d, path);
      }
    }
  }
});

test("LAYOUT's node paths are the declaration's, as they have always been written", () => {
  assert.is(LAYOUT.nodeScript(MAC), 'ipxe/52-54-00-aa-bb-01.ipxe');
  assert.is(LAYOUT.medium('hv-1', 'iso'), 'media/hv-1.iso');
  assert.is(LAYOUT.sharedMedium('img'), 'media/shared.boot.img');
  assert.is(LAYOUT.labDomain('hv-1'), 'libvirt/hv-1.xml');
  assert.is(LAYOUT.bmcScript('hv-1'), 'bmc/hv-1.sh');
  assert.is(LAYOUT.metal3Host('hv-1'), 'metal3/hv-1.yaml');
  assert.is(LAYOUT.dnsmasqHost('location_x', 'hv-1'), 'dnsmasq/hosts/location_x.hv-1');
  assert.is(LAYOUT.event('hv-1', 'STARTED'), 'harvgen-events/hv-1/STARTED');
  assert.is(LAYOUT.event('_unknown', 'FAILED'), 'harvgen-events/_unknown/FAILED');
});

test('request paths: a keyed site reads its tagged names and its plain script name (the stub); a plain site its plain names only', () => {
  const keyed = nameReader({ root: '/p/', forms: servedForms(true) });
  const plain = nameReader({ root: '/p/', forms: servedForms(false) });
  const tagged = `/p/harvester/hv-1-${TAG_HEX}.yaml`;
  assert.is(keyed.read(tagged)?.owner, 'hv-1');
  assert.is(keyed.read('/p/harvester/hv-1.yaml'), undefined);
  // In a plain site a keyed name is hostname-shaped: a name no node has, as before.
  assert.is(plain.read(tagged)?.owner, `hv-1-${TAG_HEX}`);
  assert.is(plain.read('/p/harvester/hv-1.yaml')?.kind.name, 'harvester');
  assert.is(keyed.read('/p/ipxe/52-54-00-aa-bb-01.ipxe')?.tagged, false);
  assert.is(keyed.read(`/p/ipxe/52-54-00-aa-bb-01-${TAG_HEX}.ipxe`)?.tagged, true);
  // Files nginx does not serve are no request of a node's.
  assert.is(plain.read('/p/libvirt/hv-1.xml'), undefined);
  // A tree's reader leaves request paths alone.
  assert.is(nameReader({ root: '', forms: treeForms }).read('harvgen-events/hv-1/STARTED'), undefined);
});

test("publish reads a node's every file back to its node, a USB image too, and nothing else", () => {
  const owner = nodeOwner('s', [{ hostname: 'hv-1', macs: [MAC] }]);
  assert.is(owner('media/hv-1.img'), 'hv-1');
  assert.is(owner(`media/hv-1-${TAG_HEX}.img`), 'hv-1');
  assert.is(owner('metal3/hv-1.yaml'), 'hv-1');
  assert.is(owner('media/shared.boot.iso'), '');
  // Another site's reservation, and files of no node's, stay in the site part.
  assert.is(owner('dnsmasq/hosts/t.hv-1'), '');
  assert.is(owner('upgrade/version.yaml'), '');
});

// The recipe: one more kind in a copy of the table (a GRUB config per boot MAC, served to the
// node, keyed under nginx.file_key, counted by status as a config fetch).
const GRUB: FileKind = shapedKind({
  name: 'grub-example',
  dir: 'grub',
  owner: 'mac',
  parts: [OWNER, TAG, '.cfg'],
  keyed: true,
  served: { as: 'fetch', fetch: 'config', startsInstall: false },
});
const KINDS: readonly FileKind[] = [...FILE_KINDS, GRUB];

/** The status helpers' site, keyed (nginx.file_key), as a model (no secret read: the tags are the committed tree's `x`s). */
async function keyedModel(): Promise<SiteModel> {
  const dir = site('fk');
  writeFileSync(join(dir, 'site.yaml'), `${readFileSync(join(dir, 'site.yaml'), 'utf8')}nginx:\n  file_key: { env: HARVGEN_FILE_KEY }\n`);
  const m = await compileModel(dir);
  assert.equal(
    m.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return m.model!;
}

test('a new kind in the declaration: the layout names it, status counts it for its node, publish and verify read it back', async () => {
  const model = await keyedModel();
  const node = model.nodes.find((n) => n.hostname === 'boot')!;
  const mac = node.macs[0]!;

  // The layout names it (keyed, as the site's other node files).
  const path = nodeFilePath(model, GRUB, mac);
  assert.is(path, `grub/${mac.replaceAll(':', '-')}-${MASKED_TAG}.cfg`);
  assert.is(nodeScriptPath(model, mac), `ipxe/${mac.replaceAll(':', '-')}-${MASKED_TAG}.ipxe`);

  // status: a request of it from the node's address is the node's, counted as its kind.
  const request: LogRequest = {
    ip: node.ip!,
    time: T0,
    method: 'GET',
    path: `${model.boot.prefix}/${path}`,
    query: {},
    status: 200,
    from: 'l:1',
  };
  const fetches = (kinds?: readonly FileKind[]) => {
    const tally = new SiteTally(model, undefined, kinds);
    tally.add(request);
    return { node: tally.nodes(3_600_000).find((n) => n.hostname === 'boot')!.fetches, requests: tally.aggregate.requests };
  };
  const counted = fetches(KINDS);
  assert.is(counted.node.config?.count, 1);
  assert.is(counted.requests, 1);
  // Without the kind the same request is no node's.
  assert.is(fetches().node.config, undefined);

  // publish: its node's part; verify: its plain name, expected refused under the key.
  const nodes = model.nodes.map((n) => ({ hostname: n.hostname, macs: n.macs }));
  assert.is(nodeOwner(model.site, nodes, KINDS)(path), 'boot');
  assert.is(nodeOwner(model.site, nodes)(path), '');
  const keyedPath = GRUB.path(mac, '', TAG_HEX);
  assert.equal(plainDataOf([{ path: keyedPath }], KINDS), [GRUB.path(mac, '')]);
  assert.equal(plainDataOf([{ path: keyedPath }]), []);
});

test.run();
