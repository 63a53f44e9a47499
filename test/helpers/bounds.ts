// What test/bounds.test.ts and test/cli-bounds.test.ts share: inventories past the limits.

import { configSite, SITE } from '../fixtures/bounds/inventories.ts';

/** configSite's `defaults.config` with `count` nodes: n1 in site.yaml, the others one-line files in nodes/. */
export function manyNodes(count: number, bytes: number, escaped = false): Record<string, string> {
  const files = configSite(bytes, escaped);
  for (let i = 2; i <= count; i++) {
    const mac = `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
    files[`${SITE}/nodes/n${i}.yaml`] = `mac: ${mac}\nip: 10.0.0.${10 + i}\n`;
  }
  return files;
}
