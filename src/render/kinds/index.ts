// The kinds of node, each in its folder, chosen by the one exhaustive switch over `boot`: a new
// kind is a folder and a case here, and the compiler lists every other place that must handle it.
import type { ResolvedNode, SiteModel } from '../../model/index.ts';
import type { ExplainPart, ExplainSink, Provenance } from '../../types/explain.ts';
import { renderTemplate } from '../templates.ts';
import { harvesterKind } from './harvester/index.ts';
import { iscsiKind } from './iscsi/index.ts';
import { osKind } from './os/index.ts';
import type { BootFetch, LabFacts, ManifestFields, NodeOutput } from './types.ts';

export type { BootFetch, LabFacts, ManifestFields, NodeOutput } from './types.ts';

/** One node's kind, bound to the node. */
export interface NodeKindOps {
  localLabel(): string;
  script(model: SiteModel, mac: string): string;
  files(model: SiteModel, out: NodeOutput): void;
  manifest(model: SiteModel): ManifestFields;
  lab(model: SiteModel): LabFacts;
  explain(model: SiteModel, part: ExplainPart, sink: ExplainSink): void;
  bootSource(sink: ExplainSink): Provenance;
  fetches(model: SiteModel): readonly BootFetch[];
}

/** What a node's kind renders, bound to the node. */
export function kindOf(node: ResolvedNode): NodeKindOps {
  switch (node.boot) {
    case 'harvester':
      return bind(harvesterKind, node);
    case 'os':
      return bind(osKind, node);
    case 'iscsi':
      return bind(iscsiKind, node);
  }
}

function bind<N extends ResolvedNode>(k: import('./types.ts').KindRenderer<N>, node: N): NodeKindOps {
  return {
    localLabel: () => k.localLabel(node),
    script: (model, mac) => k.script(model, node, mac),
    files: (model, out) => k.files(model, node, out),
    manifest: (model) => k.manifest(model, node),
    lab: (model) => k.lab(model, node),
    explain: (model, part, sink) => k.explain(model, node, part, sink),
    bootSource: (sink) => k.bootSource(node, sink),
    fetches: (model) => k.fetches(model, node),
  };
}

/** ipxe/<mac>.ipxe for one boot MAC of a node: `state: local` boots the disk whatever the node is. */
export function renderNodeScript(model: SiteModel, node: ResolvedNode, mac: string): string {
  const kind = kindOf(node);
  if (node.state !== 'local') return kind.script(model, mac);
  return renderTemplate('node-local.ipxe', { site: model.site, hostname: node.hostname, role: kind.localLabel(), mac, unknown: false });
}
