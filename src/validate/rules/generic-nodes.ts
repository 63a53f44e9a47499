// Nodes that do not install Harvester: OS profiles that leave harvgen's own kernel arguments alone
// (a node naming a profile that does not exist is refused when the model is resolved, OS_PROFILE_UNKNOWN), cloud-init data in one form, iSCSI portals the node can reach.
import { inNetwork, parseCidr, parseIpv4, type Ipv4Network } from '../../util/ipv4.ts';
import { kernelArgKey } from '../../derive/kernel-args.ts';
import { RESERVED_OS_PARAMS } from '../../derive/os/cmdline.ts';
import { MAX_USER_DATA_BYTES } from '../../util/limits.ts';
import { toYaml } from '../../formats/yaml.ts';
import type { InventoryPath } from '../../util/paths.ts';
import type { IscsiNode, OsNode } from '../../model/types.ts';
import { eachNode, type Rule, type RuleContext } from '../rule.ts';

/** Written in the site's own files (not in sites/_defaults.yaml or a profile, which other sites share). */
const own = (at: InventoryPath) => at[0] === 'nodes' || at[0] === 'defaults';

/** Profile params reserved keys; cloud-init in one form; iSCSI portal in the network. */
export const genericNodesRule: Rule = {
  name: 'generic-nodes',
  codes: ['OS_PARAM_RESERVED', 'CLOUD_INIT_INVALID', 'NODE_ISCSI_INVALID', 'NODE_SETTING_IGNORED'],
  check(ctx) {
    checkProfileParams(ctx);
    const v4 = ctx.model.network.ipv4;
    const net = v4 ? parseCidr(v4.cidr).net : undefined;
    eachNode(ctx, 'generic-nodes', (node, report) => {
      if (node.boot === 'iscsi') checkIscsiNode({ ...ctx, report }, node, net);
      else if (node.boot === 'os') checkOsNode({ ...ctx, report }, node);
    });
  },
};

/** OS profile params leave the kernel arguments harvgen writes itself alone. */
function checkProfileParams({ input, report }: RuleContext): void {
  for (const [name, p] of Object.entries(input.os_profiles ?? {})) {
    p?.params?.forEach((arg, k) => {
      const key = kernelArgKey(arg);
      const instead = RESERVED_OS_PARAMS[key];
      if (instead === undefined || (key === 'root' && p.root === undefined)) return;
      report({
        code: 'OS_PARAM_RESERVED',
        message: `parameter "${arg}" of OS profile ${name} sets \`${key}\`, which harvgen writes itself`,
        hint: `Remove it; ${instead.startsWith('nothing') ? `there is ${instead}` : `use ${instead} instead`}.`,
        at: ['os_profiles', name, 'params', k],
      });
    });
  }
}

/** A diskless iSCSI node: its portal on the boot network, no install-once, no OS profile beside it. */
function checkIscsiNode({ model, report }: RuleContext, node: IscsiNode, net: Ipv4Network | undefined): void {
  const at = node.sources['iscsi.server'] ?? ['nodes', node.index];
  const ip = parseIpv4(node.iscsi.server);
  if (ip === undefined || (net && !inNetwork(ip, net))) {
    report({
      code: 'NODE_ISCSI_INVALID',
      node: node.hostname,
      message:
        ip === undefined
          ? `iscsi.server "${node.iscsi.server}" of node ${node.hostname} is not an IPv4 address`
          : `iscsi.server ${node.iscsi.server} of node ${node.hostname} is outside the network ${model.network.ipv4?.cidr ?? ''}`,
      hint: 'Give the address of the target portal on the boot network (iPXE reaches it before any route exists).',
      at,
    });
  }
  // A diskless node has no disk to probe: it boots its target every time.
  const state = node.sources.state;
  if (node.state === 'install-once' && state !== undefined && own(state)) {
    report({
      code: 'NODE_SETTING_IGNORED',
      node: node.hostname,
      message: `\`state: install-once\` is ignored: node ${node.hostname} is a diskless iSCSI node, which boots its target on every boot`,
      hint: 'Remove it (`install` is what the node does), or `state: local` to boot the local disk instead of the target.',
      at: state,
    });
  }
  if (node.sources.os !== undefined && node.alsoOs !== undefined) {
    report({
      code: 'NODE_ISCSI_INVALID',
      node: node.hostname,
      message: `node ${node.hostname} has both \`iscsi\` and \`os: ${node.alsoOs}\``,
      hint: 'A diskless iSCSI node boots what its target holds: remove `os`, or remove `iscsi` to boot the OS profile.',
      at: node.sources.os,
    });
  }
}

/** An OS node's cloud-init: served at all, within the size limit, in one form. */
function checkOsNode({ report }: RuleContext, node: OsNode): void {
  const ci = node.sources.cloud_init;
  if (!node.os.cloudInit && ci !== undefined && own(ci)) {
    report({
      code: 'NODE_SETTING_IGNORED',
      node: node.hostname,
      message: `\`cloud_init\` is ignored: OS profile ${node.os.name} of node ${node.hostname} has \`cloud_init: false\`, so no NoCloud data is served`,
      hint: `Remove it, or remove \`cloud_init: false\` from profile ${node.os.name} to serve it.`,
      at: ci,
      target: 'key',
    });
  }
  for (const key of ['userData', 'vendorData', 'metaData'] as const) {
    const data = node.cloudInit[key];
    const field = { userData: 'user_data', vendorData: 'vendor_data', metaData: 'meta_data' }[key];
    const size = data !== undefined ? Buffer.byteLength(toYaml(data)) : 0;
    if (size > MAX_USER_DATA_BYTES) {
      report({
        code: 'CLOUD_INIT_INVALID',
        node: node.hostname,
        message: `cloud_init.${field} of node ${node.hostname} is ${size} bytes as YAML (at most ${MAX_USER_DATA_BYTES})`,
        hint: 'Keep cloud-init data small (aliases in the inventory are expanded): fetch large content from the OS instead.',
        at: node.sources[`cloud_init.${field}`] ?? ['nodes', node.index],
      });
    }
  }
  if (node.cloudInit.userData !== undefined && node.cloudInit.userDataFile !== undefined) {
    report({
      code: 'CLOUD_INIT_INVALID',
      node: node.hostname,
      message: `node ${node.hostname} has both cloud_init.user_data and cloud_init.user_data_file`,
      hint: 'Keep one: the inline map or the file.',
      at: node.sources['cloud_init.user_data_file'] ?? ['nodes', node.index],
    });
  }
}
