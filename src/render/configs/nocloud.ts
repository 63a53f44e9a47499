// cloud-init's NoCloud seed: one directory per boot MAC of an OS node whose profile serves
// cloud-init data, which `ds=nocloud;s=<url>` on its kernel line points at
// (src/render/kinds/os/cmdline.ts).
import { macToHyphen } from '../../util/mac.ts';
import type { ConfigFormat } from './types.ts';

const MAC = '[0-9a-f]{2}(-[0-9a-f]{2}){5}';
const MAC_STATUS = '[0-9a-f]{2}(?:-[0-9a-f]{2}){5}';
const ENTRIES = ['user-data', 'meta-data', 'vendor-data'] as const;

export const NOCLOUD_SEED: ConfigFormat = {
  name: 'nocloud',
  title: 'cloud-init seed',
  holds: 'cloud-init seed',
  dir: 'cloud-init',
  owner: 'mac',
  plain: (mac) => `cloud-init/${macToHyphen(mac)}/`,
  entries: ENTRIES,
  pattern: (keyed) => ({
    nginx: `${MAC}${keyed ? '-[0-9a-f]{32}' : ''}/(${ENTRIES.join('|')})`,
    status: `(${MAC_STATUS})${keyed ? '-(?:[0-9a-f]{32}|x{32})' : ''}/(?:${ENTRIES.join('|')})`,
  }),
  protection: { address: 'node', keyed: true, noStore: true },
  content: 'text',
  nginxComment: 'cloud-init NoCloud data of the generic OS nodes, one directory per boot MAC.',
  exposedWhenLocal: false,
  startsInstall: false,
  fetch: 'seed',
  ownersOf: (node) => (node.boot === 'os' && node.os.cloudInit ? node.macs : []),
};
