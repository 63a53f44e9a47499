// The NoCloud files of a generic OS node (meta-data, user-data, vendor-data), the same for each of
// its boot MACs.
import type { OsNode, SiteModel } from '../../model/index.ts';
import { toYaml } from '../../formats/yaml.ts';

/** The three NoCloud files of a generic node. `userDataFile` is the text of `user_data_file`. */
export function cloudInitFiles(model: SiteModel, node: OsNode, userDataFile?: string): { name: string; contents: string }[] {
  const ci = node.cloudInit;
  const userData = userDataFile ?? `#cloud-config\n${toYaml(ci.userData ?? {})}`;
  // harvgen's keys win: the instance id is what tells cloud-init it is on the same machine.
  const meta = { ...(ci.metaData ?? {}), 'instance-id': `${model.site}-${node.hostname}`, 'local-hostname': node.hostname };
  return [
    { name: 'meta-data', contents: toYaml(meta) },
    { name: 'user-data', contents: userData },
    { name: 'vendor-data', contents: `#cloud-config\n${toYaml(ci.vendorData ?? {})}` },
  ];
}
