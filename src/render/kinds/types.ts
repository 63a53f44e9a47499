// What each kind of node contributes to the tree, as one interface its folder implements
// (src/render/kinds/<kind>/), chosen by the exhaustive switch in ./index.ts.
import type { ResolvedNode, SiteModel } from '../../model/index.ts';
import type { ManifestNode } from '../manifest-types.ts';
import type { ExplainPart, ExplainSink, Provenance } from '../../types/explain.ts';

/** Where a kind puts its own files (render/index.ts checks each path). */
export interface NodeOutput {
  /** Add a file of the node's, served by nginx. */
  add(path: string, render: () => string): void;
  /** The text of a `cloud_init.user_data_file` by path as written. */
  userData(path: string): string | undefined;
}

/** The facts of a node's lab VM (libvirt/<host>.xml and define.sh) that depend on its kind. */
export interface LabFacts {
  /** What the node is, in the domain's title: its Harvester role, `iSCSI`, `os <profile>`. */
  readonly label: string;
  /** A local disk (a diskless iSCSI node has none). */
  readonly disk: boolean;
  /** A second disk for VM data (a Harvester node with `install.data_disk`). */
  readonly dataDisk: boolean;
  /** Where the network is in the boot order: after the disk (2), or alone (1). */
  readonly netBootOrder: 1 | 2;
  /** How the VM boots, in the domain's header comment (one line each). */
  readonly comment: readonly string[];
}

/** A file a node fetches while it boots, which `harvgen status` recognises in the access log. */
export interface BootFetch {
  readonly url: string;
  readonly what: 'kernel' | 'initrd' | 'rootfs' | 'iso';
}

/** The kind-specific fields of a node's manifest.json entry, by where they go in it. */
export interface ManifestFields {
  /** After `hostname`. */
  readonly head: Partial<ManifestNode>;
  /** After `boot`. */
  readonly body: Partial<ManifestNode>;
  /** At the end. */
  readonly tail: Partial<ManifestNode>;
}

/** One kind of node, as the tree renders it. */
export interface KindRenderer<N extends ResolvedNode> {
  /** How the node is named in the comment of its `state: local` script. */
  localLabel(node: N): string;
  /** The script of one boot MAC when the node is not `state: local`. */
  script(model: SiteModel, node: N, mac: string): string;
  /** The node's files besides its scripts and lab domain (not for `state: local`). */
  files(model: SiteModel, node: N, out: NodeOutput): void;
  manifest(model: SiteModel, node: N): ManifestFields;
  lab(model: SiteModel, node: N): LabFacts;
  /** The node's lines in `explain`, at each part. */
  explain(model: SiteModel, node: N, part: ExplainPart, sink: ExplainSink): void;
  /** Where `explain` says the node's kind (`boot`) comes from. */
  bootSource(node: N, sink: ExplainSink): Provenance;
  /** The boot files the node fetches (none when it boots no kernel). */
  fetches(model: SiteModel, node: N): readonly BootFetch[];
}
