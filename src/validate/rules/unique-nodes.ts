// nodes: hostnames, MACs (after normalization) and IPs must be unique across the site.
import { normalizeMac } from '../../util/mac.ts';
import type { Finding, Rule } from '../rule.ts';
import type { NodeInput } from '../../types/site-input.ts';
import type { InventoryPath } from '../../util/paths.ts';

/** No two nodes share a hostname, a MAC or an IP. */
export const uniqueNodesRule: Rule = {
  name: 'unique-nodes',
  codes: ['NODE_DUPLICATE_HOSTNAME', 'NODE_DUPLICATE_MAC', 'NODE_DUPLICATE_IP'],
  check({ input, report, memo }) {
    const nodes = input.nodes ?? [];
    // Under watch's memo: what the last run found, while no node changed its hostname, MACs or IP.
    const state = memo.parts?.state;
    const last = state?.get(KEPT) as Kept | undefined;
    if (last && last.nodes.length === nodes.length) {
      let same = true;
      for (let i = 0; i < nodes.length && same; i++)
        same = (nodes[i] === last.nodes[i] && Object.isFrozen(nodes[i])) || keyOf(nodes[i]!) === last.keys[i];
      if (same) {
        state!.set(KEPT, { ...last, nodes });
        for (const f of last.findings) report(f);
        return;
      }
    }
    const findings: Finding[] = [];
    findAll(nodes, (f) => findings.push(f));
    state?.set(KEPT, { nodes, keys: nodes.map(keyOf), findings });
    for (const f of findings) report(f);
  },
};

/** Where the rule keeps its last run (NodeParts.state). */
const KEPT = 'unique-nodes';

/**
 * What the rule kept of its last run: the inventory's nodes (values kept across builds are frozen:
 * watch's parse cache), what of each it reads, and what it found.
 */
interface Kept {
  readonly nodes: readonly NodeInput[];
  readonly keys: readonly string[];
  readonly findings: readonly Finding[];
}

/** All the rule reads of a node (its MACs as written: a message quotes them). */
function keyOf(node: NodeInput): string {
  return JSON.stringify([node.hostname ?? null, node.macs ?? null, node.mac ?? null, node.ip ?? null]);
}

/** A node told apart from another of the same hostname: its place and its first boot MAC or its IP. */
function which(nodes: readonly NodeInput[], i: number): string {
  const node = nodes[i];
  const mac = node?.mac ?? node?.macs?.[0];
  // As normalized (a MAC as written may hold anything: NODE_MAC_INVALID reports it), else quoted.
  const by =
    mac !== undefined
      ? ` (MAC ${normalizeMac(mac) ?? JSON.stringify(mac)})`
      : node?.ip !== undefined
        ? ` (IP ${JSON.stringify(node.ip)})`
        : '';
  return `nodes[${i}]${by}`;
}

/** Every hostname, MAC and IP used twice, in the order of the nodes. */
function findAll(nodes: readonly NodeInput[], report: (finding: Finding) => void): void {
  const hostnames = new Map<string, number>();
  // By node index only: a path per MAC, made for every MAC of every node, was garbage unless reported.
  const macs = new Map<string, number>();
  const ips = new Map<string, number>();
  const label = (i: number) => nodes[i]?.hostname ?? `nodes[${i}]`;
  nodes.forEach((node, i) => {
    if (node.hostname !== undefined) {
      const prev = hostnames.get(node.hostname);
      if (prev !== undefined) {
        report({
          code: 'NODE_DUPLICATE_HOSTNAME',
          message: `hostname "${node.hostname}" is used by two nodes: ${which(nodes, prev)} and ${which(nodes, i)}`,
          hint: 'Hostnames name the RKE2 nodes and the output files; give each node its own (a node file is named after its hostname: rename the file or drop its `hostname:`).',
          at: ['nodes', i, 'hostname'],
        });
      } else hostnames.set(node.hostname, i);
    }
    const list = node.macs ?? (node.mac !== undefined ? [node.mac] : []);
    list.forEach((raw, k) => {
      const mac = normalizeMac(raw);
      if (!mac) return;
      const prev = macs.get(mac);
      if (prev !== undefined) {
        const path: InventoryPath = node.macs ? ['nodes', i, 'macs', k] : ['nodes', i, 'mac'];
        const who = prev === i ? `node ${label(i)} twice` : `${label(prev)} and ${label(i)}`;
        report({
          code: 'NODE_DUPLICATE_MAC',
          message: `MAC ${mac}${raw !== mac ? ` (written "${raw}")` : ''} is listed for ${who}`,
          hint: 'Each NIC boots one node; MACs are compared after normalization (case and separators do not matter).',
          at: path,
        });
      } else macs.set(mac, i);
    });
    if (node.ip !== undefined) {
      const prev = ips.get(node.ip);
      if (prev !== undefined) {
        report({
          code: 'NODE_DUPLICATE_IP',
          message: `IP ${node.ip} is used by ${label(prev)} and ${label(i)}`,
          hint: 'Give each node its own address.',
          at: ['nodes', i, 'ip'],
        });
      } else ips.set(node.ip, i);
    }
  });
}
