// Every semantic rule, in reporting order. Add a rule: write it in its own file, list it
// here, add its codes to diagnostics/codes.ts and a failing and a passing fixture.
import type { Rule } from '../rule.ts';
import { harvesterVersionRule } from './harvester-version.ts';
import { networkRule } from './network.ts';
import { nodeIdentityRule } from './node-identity.ts';
import { uniqueNodesRule } from './unique-nodes.ts';
import { nodeAddressRule } from './node-address.ts';
import { nodeLinkRule } from './node-link.ts';
import { nodeDisksRule } from './node-disks.ts';
import { clusterRolesRule } from './cluster-roles.ts';
import { clusterVipRule } from './cluster-vip.ts';
import { clusterCredentialsRule } from './cluster-credentials.ts';
import { clusterCidrsRule } from './cluster-cidrs.ts';
import { outputValuesRule } from './output-values.ts';
import { kernelArgsRule } from './kernel-args.ts';
import { bootRule } from './boot.ts';
import { genericNodesRule } from './generic-nodes.ts';
import { osProfileFilesRule } from './os-profile-files.ts';
import { bssRule } from './bss.ts';
import { metal3Rule } from './metal3.ts';
import { failoverRule } from './failover.ts';
import { installerRule } from './installer.ts';
import { measuredRule } from './measured.ts';
import { nginxAccessRule } from './nginx-access.ts';
import { signingRule } from './signing.ts';
import { publishRule } from './publish.ts';
import { dhcpServerRule } from './dhcp-server.ts';
import { reinstallRule } from './reinstall.ts';
import { dnsmasqProxyRule } from './dnsmasq-proxy.ts';
import { bmcRule } from './bmc.ts';
import { mediaRule } from './media.ts';
import { ipv6Rule } from './ipv6.ts';
import { vlanRule } from './vlan.ts';
import { upgradeRule } from './upgrade.ts';

/** All rules. */
export const RULES: readonly Rule[] = [
  harvesterVersionRule,
  upgradeRule,
  networkRule,
  ipv6Rule,
  vlanRule,
  nodeIdentityRule,
  uniqueNodesRule,
  nodeAddressRule,
  nodeLinkRule,
  nodeDisksRule,
  clusterRolesRule,
  clusterVipRule,
  clusterCredentialsRule,
  clusterCidrsRule,
  outputValuesRule,
  kernelArgsRule,
  bootRule,
  genericNodesRule,
  osProfileFilesRule,
  installerRule,
  measuredRule,
  bssRule,
  metal3Rule,
  failoverRule,
  nginxAccessRule,
  signingRule,
  publishRule,
  dhcpServerRule,
  reinstallRule,
  dnsmasqProxyRule,
  bmcRule,
  mediaRule,
];
