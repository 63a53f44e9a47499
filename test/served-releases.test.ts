// installers() and releases() (src/model/served-releases.ts) answer a model whose nodes are mostly
// the last model's objects at the same places from what they found for it, looking only at the
// nodes that changed. Each answer must be what the whole model says, whatever changed: a node
// replaced by another of the same kind, one that stops or starts installing Harvester, one that
// installs another release, the node list of another length.
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileModel } from '../src/pipeline.ts';
import { installers, releases } from '../src/model/served-releases.ts';
import type { HarvesterNode, Release, ResolvedNode, SiteModel } from '../src/model/types.ts';

const repo = resolve(import.meta.dirname, '..');

/** What the whole model says, computed plainly. */
function expected(model: SiteModel): { installers: HarvesterNode[]; releases: string[] } {
  const all = model.nodes.filter((n): n is HarvesterNode => n.boot === 'harvester');
  if (model.unknownJoin) all.push(model.unknownJoin);
  const key = (r: Release) => `${r.version.raw}/${r.arch}`;
  const keys = [...new Set(all.map((n) => key(n.release)))].sort();
  const site = model.release && all.some((n) => n.release === model.release) ? [key(model.release)] : [];
  return { installers: all, releases: [...site, ...keys.filter((k) => !site.includes(k))] };
}

function agrees(model: SiteModel, what: string): void {
  const want = expected(model);
  const got = installers(model);
  assert.is(got.length, want.installers.length, `${what}: installers`);
  got.forEach((n, i) => assert.ok(n === want.installers[i], `${what}: installer ${i}`));
  assert.equal(
    releases(model).map((r) => `${r.version.raw}/${r.arch}`),
    want.releases,
    `${what}: releases`,
  );
}

test('installers and releases follow each kind of change from the last model as the whole model says', async () => {
  const { renderable } = await compileModel(resolve(repo, 'sites/location_y'));
  assert.ok(renderable);
  const base = renderable.model;
  assert.ok(base.nodes.length >= 3 && base.nodes.some((n) => n.boot === 'harvester'));
  const withNodes = (nodes: readonly ResolvedNode[]): SiteModel => ({ ...base, nodes });
  const h = base.nodes.findIndex((n) => n.boot === 'harvester');
  const harvesterNode = base.nodes[h] as HarvesterNode;
  agrees(base, 'first');
  agrees(withNodes([...base.nodes]), 'the same nodes in a new list');
  // Another object of the same kind at one place.
  const copy = { ...harvesterNode };
  agrees(withNodes(base.nodes.map((n, i) => (i === h ? copy : n))), 'a node replaced');
  // That node installs another release (another object, another version).
  const other: Release = { ...harvesterNode.release, version: { ...harvesterNode.release.version, raw: 'v1.9.9' } };
  agrees(withNodes(base.nodes.map((n, i) => (i === h ? { ...harvesterNode, release: other } : n))), 'another release');
  agrees(withNodes(base.nodes.map((n, i) => (i === h ? copy : n))), 'back to the release of the site');
  // It stops installing Harvester, then starts again.
  const os = { ...harvesterNode, boot: 'os' } as unknown as ResolvedNode;
  agrees(withNodes(base.nodes.map((n, i) => (i === h ? os : n))), 'no longer a Harvester node');
  agrees(withNodes([...base.nodes]), 'a Harvester node again');
  // One node fewer, then the first list.
  agrees(withNodes(base.nodes.slice(1)), 'a node fewer');
  agrees(base, 'the first model again');
  agrees(withNodes([...base.nodes]), 'the first nodes in a new model, from a list of another length');
  agrees(withNodes(base.nodes.map((n, i) => (i === h ? copy : n))), 'and a node replaced in it');
});

test.run();
