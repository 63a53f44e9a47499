// cluster: Kubernetes pod/service networks must not collide with the management network,
// and the cluster DNS address must sit in the service network (the installer's TUI rule).
import { inNetwork, networksOverlap, parseCidr, parseIpv4, type Ipv4Network } from '../../util/ipv4.ts';
import { notIpv4, type Rule } from '../rule.ts';
import type { InventoryPath } from '../../util/paths.ts';

const DEFAULT_POD = '10.52.0.0/16';
const DEFAULT_SERVICE = '10.53.0.0/16';
const DEFAULT_DNS = '10.53.0.10';

/** Pod/service CIDRs valid and disjoint from each other and the management network. */
export const clusterCidrsRule: Rule = {
  name: 'cluster-cidrs',
  codes: ['CLUSTER_CIDR_INVALID', 'CLUSTER_CIDR_OVERLAP', 'CLUSTER_DNS_OUTSIDE_SERVICE_CIDR', 'NET_IP_INVALID'],
  check({ input, report }) {
    const c = input.cluster;
    if (!c) return;
    const parse = (value: string | undefined, fallback: string, key: string): { net?: Ipv4Network; text: string; at: InventoryPath } => {
      const text = value ?? fallback;
      const at: InventoryPath = value !== undefined ? ['cluster', key] : ['network', 'cidr'];
      const r = parseCidr(text);
      if (!r.net)
        report({
          code: 'CLUSTER_CIDR_INVALID',
          message: `cluster.${key} "${text}" ${r.problem}`,
          hint: 'Write a network as `a.b.c.d/prefix`, e.g. 10.52.0.0/16.',
          at,
        });
      return { ...(r.net ? { net: r.net } : {}), text, at };
    };
    const pod = parse(c.pod_cidr, DEFAULT_POD, 'pod_cidr');
    const service = parse(c.service_cidr, DEFAULT_SERVICE, 'service_cidr');
    const mgmt = input.network.cidr !== undefined ? parseCidr(input.network.cidr).net : undefined;
    for (const [name, x] of [
      ['pod', pod],
      ['service', service],
    ] as const) {
      if (x.net && mgmt && networksOverlap(x.net, mgmt)) {
        const isDefault = x.at[0] === 'network';
        report({
          code: 'CLUSTER_CIDR_OVERLAP',
          message: `the ${name} network ${x.text}${isDefault ? ' (default)' : ''} overlaps the management network ${input.network.cidr}`,
          hint: isDefault
            ? `Set cluster.${name}_cidr to a free range (Harvester v1.5+), or move the management network.`
            : 'Pick a range that is not used on the management network.',
          at: x.at,
        });
      }
    }
    if (pod.net && service.net && networksOverlap(pod.net, service.net)) {
      report({
        code: 'CLUSTER_CIDR_OVERLAP',
        message: `the pod network ${pod.text} overlaps the service network ${service.text}`,
        hint: 'Use two disjoint ranges.',
        at: c.service_cidr !== undefined ? service.at : pod.at,
      });
    }
    const dnsText = c.cluster_dns ?? (c.service_cidr === undefined ? DEFAULT_DNS : undefined);
    if (dnsText === undefined) {
      if (service.net)
        report({
          code: 'CLUSTER_DNS_OUTSIDE_SERVICE_CIDR',
          message: `cluster.service_cidr is ${service.text} but cluster.cluster_dns is not set (its default 10.53.0.10 is outside it)`,
          hint: 'Set cluster.cluster_dns to an address inside the service network, e.g. its .10 address.',
          at: ['cluster', 'service_cidr'],
        });
      return;
    }
    const dns = parseIpv4(dnsText);
    if (dns === undefined) {
      notIpv4(report, {
        what: 'cluster.cluster_dns',
        value: dnsText,
        hint: 'Write a dotted quad inside the service network.',
        at: ['cluster', 'cluster_dns'],
      });
    } else if (service.net && !inNetwork(dns, service.net)) {
      report({
        code: 'CLUSTER_DNS_OUTSIDE_SERVICE_CIDR',
        message: `cluster.cluster_dns ${dnsText} is outside the service network ${service.text}`,
        hint: 'Kubernetes serves DNS from a service IP; pick an address inside the service CIDR.',
        at: c.cluster_dns !== undefined ? ['cluster', 'cluster_dns'] : ['cluster', 'service_cidr'],
      });
    }
  },
};
