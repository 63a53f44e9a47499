// nodes: every node needs a valid hostname and at least one valid boot MAC.
import { normalizeMac, isMulticastMac } from '../../util/mac.ts';
import type { NodeInput } from '../../types/site-input.ts';
import { eachInputNode, eachNode, type Rule, type RuleContext } from '../rule.ts';
import { PLACEHOLDER_MAC } from '../../util/init-placeholders.ts';
import { HOSTNAME } from '../../util/hostname.ts';

/** Hostnames dnsmasq reads as something else in `dhcp-host=`: a keyword or a lease time. */
const DNSMASQ_WORD = /^(ignore|infinite|[0-9]+[smhdw]?)$/;

/** Hostname present and a DNS-1123 label; MACs present and well-formed; NICs not empty. */
export const nodeIdentityRule: Rule = {
  name: 'node-identity',
  codes: [
    'NODE_HOSTNAME_MISSING',
    'NODE_HOSTNAME_INVALID',
    'NODE_MAC_MISSING',
    'NODE_MAC_INVALID',
    'NODE_MAC_AND_MACS',
    'NODE_NIC_EMPTY',
    'NODE_PLACEHOLDER',
  ],
  check(ctx) {
    eachInputNode(ctx, 'node-identity', (node, i, report) => {
      checkHostname({ ...ctx, report }, node, i);
      checkBootMacs({ ...ctx, report }, node, i);
    });
    checkInterfaces(ctx);
  },
};

/** A node's hostname: present, not a word dnsmasq or the lab network reads otherwise, a DNS-1123 label. */
function checkHostname({ report }: RuleContext, node: NodeInput, i: number): void {
  const at = ['nodes', i] as const;
  if (node.hostname === undefined) {
    report({
      code: 'NODE_HOSTNAME_MISSING',
      message: `nodes[${i}] has no hostname`,
      hint: 'Add `hostname: <name>` (a lowercase DNS label such as hv-1).',
      at,
    });
  } else if (node.hostname === 'network') {
    report({
      code: 'NODE_HOSTNAME_INVALID',
      message: 'hostname "network" would name its lab VM libvirt/network.xml, the file of the lab network itself',
      hint: 'Use another name, e.g. "network-1".',
      at: [...at, 'hostname'],
    });
  } else if (DNSMASQ_WORD.test(node.hostname)) {
    report({
      code: 'NODE_HOSTNAME_INVALID',
      message: `hostname "${node.hostname}" would not be read as a name by dnsmasq: in a dhcp-host line it means ${node.hostname === 'ignore' ? '"never answer this MAC"' : 'a lease time'}`,
      hint: 'Use a name with a letter that is not a lease time or a dnsmasq keyword, e.g. "hv-1".',
      at: [...at, 'hostname'],
    });
  } else if (!HOSTNAME.test(node.hostname)) {
    const why = node.hostname.includes('.')
      ? 'it contains a dot (a fully qualified name breaks the Harvester install: the node joins etcd under a second name)'
      : node.hostname.length > 63
        ? 'it is longer than 63 characters'
        : /[A-Z]/.test(node.hostname)
          ? 'it has upper-case letters'
          : 'only a-z, 0-9 and inner hyphens are allowed';
    const suggestion = node.hostname
      .toLowerCase()
      .split('.')[0]!
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63);
    report({
      code: 'NODE_HOSTNAME_INVALID',
      message: `hostname "${node.hostname}" is not a valid DNS-1123 label: ${why}`,
      hint: suggestion ? `Use a short lowercase name such as "${suggestion}".` : 'Use a short lowercase name such as hv-1.',
      at: [...at, 'hostname'],
    });
  }
}

/** A node's boot MACs: `mac` or `macs` (not both, not neither), each well-formed and unicast. */
function checkBootMacs({ report }: RuleContext, node: NodeInput, i: number): void {
  const at = ['nodes', i] as const;
  if (node.mac !== undefined && node.macs !== undefined) {
    report({
      code: 'NODE_MAC_AND_MACS',
      message: `node ${node.hostname ?? i} sets both \`mac\` and \`macs\``,
      hint: 'Keep one: `mac` for a single NIC or `macs` for several.',
      at: [...at, 'macs'],
      target: 'key',
    });
  }
  if (node.mac === undefined && node.macs === undefined) {
    report({
      code: 'NODE_MAC_MISSING',
      message: `node ${node.hostname ?? i} has no MAC address`,
      hint: 'Add `mac: <boot NIC MAC>`; harvgen serves each node by the MAC it boots from.',
      at,
    });
  }
  const list = node.macs ?? (node.mac !== undefined ? [node.mac] : []);
  list.forEach((mac, k) => {
    // Made only for a report: a path per MAC of every node was garbage otherwise.
    const path = () => (node.macs ? [...at, 'macs', k] : [...at, 'mac']);
    const norm = normalizeMac(mac);
    if (!norm) {
      report({
        code: 'NODE_MAC_INVALID',
        message: `"${mac}" is not a MAC address`,
        hint: 'Write six hex octets, e.g. 52:54:00:aa:bb:01 (hyphens, dots or no separators also work).',
        at: path(),
      });
    } else if (isMulticastMac(norm)) {
      report({
        code: 'NODE_MAC_INVALID',
        message: `${norm} is a multicast MAC address; no NIC boots with it`,
        hint: 'Check the address; the first octet of a NIC MAC is even.',
        at: path(),
      });
    } else if (PLACEHOLDER_MAC.test(norm)) {
      report({
        code: 'NODE_PLACEHOLDER',
        message: `MAC ${norm} of node ${node.hostname ?? i} is the placeholder harvgen init wrote: no NIC has it, so the node never boots from this tree`,
        hint: "Replace it with the MAC of the server's boot NIC (its BMC or the NIC's label shows it; `ip link` on a running system).",
        at: path(),
      });
    }
  });
}

/** The `interfaces` a Harvester node names: each with a name or a well-formed MAC. */
function checkInterfaces(ctx: RuleContext): void {
  eachNode(ctx, 'node-identity/interfaces', (node, report) => {
    // Interfaces derived from the boot MACs were checked above; only Harvester nodes have others.
    if (node.boot !== 'harvester' || !node.sources.interfaces) return;
    node.interfaces.forEach((nic, k) => {
      // Made only for a report (a path per NIC of every node was garbage otherwise).
      const at = () => [...(node.sources.interfaces ?? ['nodes', node.index]), k];
      if (nic.name === undefined && nic.mac === undefined) {
        report({
          code: 'NODE_NIC_EMPTY',
          node: node.hostname,
          message: `interface ${k} of node ${node.hostname} has neither name nor mac`,
          hint: 'Give the NIC a `name` (e.g. eno1), a `mac`, or both.',
          at: at(),
        });
      } else if (nic.mac !== undefined && !normalizeMac(nic.mac)) {
        report({
          code: 'NODE_MAC_INVALID',
          node: node.hostname,
          message: `interface mac "${nic.mac}" is not a MAC address`,
          hint: 'Write six hex octets, e.g. 52:54:00:aa:bb:01.',
          at: [...at(), 'mac'],
        });
      }
    });
  });
}
