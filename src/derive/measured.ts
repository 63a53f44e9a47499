// A node's measured facts as its installer would see them (src/facts/installer-view.ts): matched
// against the NICs of its management interface and the disks of its effective config, once per
// node and facts file (the facts file itself: measuredOf, src/model/measured.ts).
import { measuredView, type MeasuredView } from '../facts/installer-view.ts';
import type { MeasuredFacts } from '../facts/types.ts';
import { installView } from '../harvester/installer-rules.ts';
import type { HarvesterNode, SiteModel } from '../model/index.ts';
import { measuredOf } from '../model/measured.ts';
import { effectiveConfig } from './harvester/effective.ts';

const views = new WeakMap<MeasuredFacts, WeakMap<HarvesterNode, MeasuredView>>();

/** The measured view of a Harvester node, undefined without a facts file of its hostname. */
export function nodeMeasured(model: SiteModel, node: HarvesterNode): MeasuredView | undefined {
  const m = measuredOf(model, node.hostname);
  if (m === undefined) return undefined;
  let byNode = views.get(m);
  if (byNode === undefined) views.set(m, (byNode = new WeakMap()));
  let view = byNode.get(node);
  if (view === undefined) {
    const config = effectiveConfig(model, node);
    const { device, dataDisk } = installView({ config, version: node.release.version });
    view = measuredView(m, { hostname: node.hostname, interfaces: node.interfaces, device, dataDisk });
    byNode.set(node, view);
  }
  return view;
}
