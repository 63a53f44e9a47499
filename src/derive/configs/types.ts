// What a node is served besides its boot script: a config format, declared once (one file per
// format in this folder). Everything that must agree on a served config reads its declaration:
// file names (src/derive/file-names.ts), who may fetch it (src/render/access.ts), the nginx
// locations (templates/nginx.conf.eta, one loop over the formats), verify's plan, `status`, the
// `nginx-access` rule and explain. ARCHITECTURE.md "Adding a config format" is the recipe.
import type { OsNode, ResolvedNode, SiteModel } from '../../model/index.ts';

/** One served config format. */
export interface ConfigFormat {
  /** Its name (`harvester`, `nocloud`). */
  readonly name: string;
  /** What it is, in a sentence: "Harvester config". */
  readonly title: string;
  /** What it holds that must not leak, for NODE_FILES_OPEN_TO_POOL: "cluster token, password hash". */
  readonly holds: string;
  /** The top directory of the tree its files are in (one per owner below it). */
  readonly dir: string;
  /** Whose it is: one per node (by hostname) or one per boot MAC. */
  readonly owner: 'host' | 'mac';
  /** The plain path of one owner's file, or of its directory with a trailing slash. */
  readonly plain: (owner: string) => string;
  /** A directory's files (a NoCloud seed's `user-data`, ...); none for a single file. */
  readonly entries?: readonly string[];
  /**
   * The pattern of a served name below `dir`, as a regular expression (no anchors), with the
   * keyed tag when `keyed`: nginx captures it whole (templates/nginx.conf.eta, `nginx.access: open`)
   * and `status` takes the owner from its first group.
   */
  readonly pattern: (keyed: boolean) => { readonly nginx: string; readonly status: string };
  /** Served only to the node's addresses (`nginx.access: nodes`) and keyed under `nginx.file_key`. */
  readonly protection: { readonly address: 'node'; readonly keyed: true; readonly noStore: true };
  /** How nginx sends it (`text`: text/plain; charset=utf-8). */
  readonly content: 'text';
  /** The comment above its location in the nginx config. */
  readonly nginxComment: string;
  /**
   * Whether the `nginx-access` rule speaks of it for a node with `state: local` (which boots its
   * disk and fetches nothing): a Harvester config is its cluster's secret whatever the state.
   */
  readonly exposedWhenLocal: boolean;
  /** A fetch of it starts an install (`status` counts installs and loops by it): only an installer fetches it. */
  readonly startsInstall: boolean;
  /** The fetch kind `status` records for it. */
  readonly fetch: 'config' | 'seed';
  /** The nodes it is served to, and for which of their owners (hostname or boot MACs). */
  readonly ownersOf: (node: ResolvedNode) => readonly string[];
  /** The kernel argument that points the node's boot at one owner's file or directory (its URL). */
  readonly kernelArg: (url: string) => string;
  /** What a node's boot script says of it in its header: `# <what>: <url><after>`. */
  readonly scriptComment: { readonly what: string; readonly after: string };
  /**
   * A format an OS profile may name (`os_profiles.<name>.config_format`): its files for one node
   * (the same for each owner; `name` is appended to the owner's path, '' for a single file).
   * `userData` is the text of the node's `cloud_init.user_data_file`, when it has one.
   */
  readonly osFiles?: (model: SiteModel, node: OsNode, userData?: string) => readonly { readonly name: string; readonly contents: string }[];
}
