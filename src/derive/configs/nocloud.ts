// cloud-init's NoCloud seed: one directory per boot MAC of an OS node whose profile serves
// cloud-init data, which `ds=nocloud;s=<url>` on its kernel line points at
// (src/derive/os/cmdline.ts).
import { macToHyphen } from '../../util/mac.ts';
import { cloudInitFiles } from './cloud-init.ts';
import { TAG_PATTERN } from '../name-patterns.ts';
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
    status: `(${MAC_STATUS})${keyed ? TAG_PATTERN : ''}/(?:${ENTRIES.join('|')})`,
  }),
  protection: { address: 'node', keyed: true, noStore: true },
  content: 'text',
  nginxComment: 'cloud-init NoCloud data of the generic OS nodes, one directory per boot MAC.',
  exposedWhenLocal: false,
  startsInstall: false,
  fetch: 'seed',
  ownersOf: (node) => (node.boot === 'os' && node.os.configFormat === 'nocloud' ? node.macs : []),
  kernelArg: nocloudArg,
  scriptComment: { what: 'cloud-init NoCloud data', after: `{${ENTRIES.join(',')}}` },
  osFiles: cloudInitFiles,
};

/**
 * The kernel argument that points cloud-init's NoCloud data source at a seed URL, for every
 * cloud-init: `ds=nocloud;s=<url>` alone is fetched but not used before 23.2 (the data source stays
 * in local mode, so the network stage exits before it reads user-data, cloudinit/cmd/main.py
 * main_init); `dsmode=net` says the network stage is the one. Checked with cloud-init's own code
 * (Debian 12's 22.4.2, 13's 25.1.4, sid's 26.2) in test/real/cloud-init.test.ts. `ds=nocloud-net`
 * works there too, but is deprecated from 24.1 (a degraded `cloud-init status`).
 */
export function nocloudArg(seed: string): string {
  return `ds=nocloud;s=${seed};dsmode=net`;
}
