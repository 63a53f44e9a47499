// The Harvester installer's config: one YAML file per Harvester node, named by its hostname,
// which `harvester.install.config_url=` on the installer's kernel line points at
// (src/derive/harvester/cmdline.ts).
import { HOSTNAME_PATTERN, TAG_PATTERN } from '../name-patterns.ts';
import type { ConfigFormat } from './types.ts';

export const HARVESTER_CONFIG: ConfigFormat = {
  name: 'harvester',
  title: 'Harvester config',
  holds: 'cluster token, password hash',
  dir: 'harvester',
  owner: 'host',
  plain: (host) => `harvester/${host}.yaml`,
  pattern: (keyed) => ({
    // A keyed name (`hv-1-<tag>.yaml`) is a hostname-shaped name too.
    nginx: '[a-z0-9]([a-z0-9-]*[a-z0-9])?\\.yaml',
    status: `(${HOSTNAME_PATTERN})${keyed ? TAG_PATTERN : ''}\\.yaml`,
  }),
  protection: { address: 'node', keyed: true, noStore: true },
  content: 'text',
  nginxComment: "One Harvester config per node; each holds that node's secrets only.",
  exposedWhenLocal: true,
  startsInstall: true,
  fetch: 'config',
  ownersOf: (node) => (node.boot === 'harvester' && node.hostname !== '' ? [node.hostname] : []),
  kernelArg: (url) => `harvester.install.config_url=${url}`,
  scriptComment: { what: 'Harvester config', after: '' },
};
