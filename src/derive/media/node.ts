// Facts of a node's boot ISO (`medium: iso`) that the rules and the renderers share.
import type { HarvesterNode, ResolvedNode, SiteModel } from '../../model/index.ts';
import { effectiveConfig } from '../harvester/effective.ts';
import { parseIpv4 } from '../../util/ipv4.ts';

/**
 * Who fetches a node's boot ISO: its BMC, which mounts it as virtual media, at its address when
 * that is an IPv4 address (otherwise nobody under `nginx.access: nodes`: MEDIA_BMC_REFUSED).
 */
export function mediumAllow(node: ResolvedNode): string[] {
  return node.bmc !== undefined && parseIpv4(node.bmc.host) !== undefined ? [node.bmc.host] : [];
}

/**
 * Whether a Harvester node's installer takes the Harvester ISO from a local device
 * (`install.iso_url: local` in its effective config, set by `install.iso_url` or `config:`).
 */
export function isoFromLocal(model: SiteModel, node: ResolvedNode): node is HarvesterNode {
  return node.boot === 'harvester' && effectiveConfig(model, node).get('install.iso_url') === 'local';
}
