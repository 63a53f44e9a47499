// What the report shows of one node: the inventory's facts of it (from the resolved model) and,
// with logs, what `status` made of them. Plain strings only: the pages escape them.
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import type { NodeStatus } from '../status/types.ts';

/** The state a node is counted under on the index: status's verdict, or `unknown` without logs. */
export type ShownState = NodeStatus['verdict'] | 'unknown';

/** One row of a site's nodes table. */
export interface NodeRow {
  readonly hostname: string;
  /** Its anchor on its page (`node-<hostname>`). */
  readonly anchor: string;
  readonly role: string;
  readonly kind: string;
  readonly macs: readonly string[];
  readonly address: string;
  readonly vlan: string;
  readonly medium: string;
  readonly bmc: string;
  readonly disk: string;
  readonly release: string;
  readonly generation: string;
  readonly state: ShownState;
  readonly lastBoot: string;
  readonly problems: readonly string[];
}

/** The role column: a Harvester node's role (create/join and its Harvester role), else its OS or iSCSI target. */
function roleOf(n: ResolvedNode): string {
  if (n.boot === 'harvester') return n.harvesterRole === 'default' ? n.role : `${n.role} (${n.harvesterRole})`;
  return n.boot === 'os' ? 'os' : 'iscsi';
}

function diskOf(n: ResolvedNode): string {
  if (n.boot === 'harvester') {
    if (n.install.device !== undefined) return n.install.device;
    if (n.install.deviceSelector !== undefined) return `selector ${JSON.stringify(n.install.deviceSelector)}`;
    return '';
  }
  if (n.boot === 'iscsi') return `iscsi ${n.iscsi.server}:${n.iscsi.port} lun ${n.iscsi.lun}`;
  return '';
}

function releaseOf(n: ResolvedNode): string {
  if (n.boot === 'harvester') return `Harvester ${n.release.version.raw}`;
  if (n.boot === 'os') return n.os.name;
  return n.alsoOs ?? '';
}

/** One node's row, with its status when the logs were read. */
export function nodeRow(model: SiteModel, n: ResolvedNode, status: NodeStatus | undefined, logs: boolean): NodeRow {
  const vlan = n.boot === 'harvester' && n.vlan !== undefined ? String(n.vlan) : '';
  const state: ShownState = logs ? (status?.verdict ?? 'never-booted') : 'unknown';
  return {
    hostname: n.hostname,
    anchor: `node-${n.hostname}`,
    role: roleOf(n),
    kind: `${n.boot} ${n.arch}${n.state === 'install' ? '' : `, ${n.state}`}`,
    macs: n.macs,
    address: n.ip === undefined ? n.method : `${n.ip}/${n.prefix}`,
    vlan: vlan === '' && model.network.vlans.length > 0 ? 'untagged' : vlan,
    medium: n.medium === 'network' ? 'network' : `${n.medium} (${n.mediumImage})`,
    bmc: n.bmc ? `${n.bmc.type} ${n.bmc.host}${n.bmc.port === 443 || n.bmc.port === 623 ? '' : `:${n.bmc.port}`}` : '',
    disk: diskOf(n),
    release: releaseOf(n),
    generation: n.boot === 'harvester' && n.reinstall !== undefined ? String(n.reinstall) : '',
    state,
    lastBoot: status?.last_boot ? `${status.last_boot.time} from ${status.last_boot.ip}` : '',
    problems: status?.problems ?? [],
  };
}

/** States counted on the index, in their order. */
export const COUNTED: readonly ShownState[] = ['installed', 'installing', 'booting', 'booted', 'local', 'never-booted', 'failed', 'loop'];

/** A site's counts: by state (with logs), nodes with problems, by role and by kind. */
export interface SiteCounts {
  readonly nodes: number;
  readonly byState: Readonly<Record<string, number>>;
  readonly problems: number;
  readonly byRole: Readonly<Record<string, number>>;
  readonly byKind: Readonly<Record<string, number>>;
}

/** Count a site's rows. */
export function countRows(rows: readonly NodeRow[]): SiteCounts {
  const byState: Record<string, number> = {};
  const byRole: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  let problems = 0;
  for (const r of rows) {
    byState[r.state] = (byState[r.state] ?? 0) + 1;
    byRole[r.role] = (byRole[r.role] ?? 0) + 1;
    const kind = r.kind.split(' ')[0]!;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (r.problems.length > 0 || r.state === 'failed' || r.state === 'loop') problems++;
  }
  return { nodes: rows.length, byState, problems, byRole, byKind };
}
