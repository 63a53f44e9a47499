// harvester: the release must be one harvgen knows, and the inventory may only use
// settings and boot modes that release supports.
import { BIOS_REFUSED_SINCE, NODE_KEY_SINCE, SITE_KEY_SINCE } from '../../harvester/inventory-gates.ts';
import { atLeast, isSupported, parseVersion, SUPPORTED_RANGE } from '../../harvester/versions.ts';
import type { InventoryPath } from '../../load/index.ts';
import type { Rule } from '../rule.ts';

/** Version supported; keys and firmware allowed for it. */
export const harvesterVersionRule: Rule = {
  name: 'harvester-version',
  codes: ['HARVESTER_VERSION_UNSUPPORTED', 'HARVESTER_KEY_TOO_NEW', 'HARVESTER_BIOS_UNSUPPORTED'],
  check({ input, report }) {
    const raw = input.harvester.version;
    const v = parseVersion(raw);
    if (!v || !isSupported(v)) {
      report({
        code: 'HARVESTER_VERSION_UNSUPPORTED',
        message: `Harvester ${raw} is not a release harvgen knows (v${SUPPORTED_RANGE.oldest}.0 to v${SUPPORTED_RANGE.newest}.x)`,
        hint: "Use a supported release; harvgen checks the config against that release's installer.",
        at: ['harvester', 'version'],
      });
      return;
    }
    const tooNew = (key: string, since: string, at: InventoryPath) =>
      report({
        code: 'HARVESTER_KEY_TOO_NEW',
        message: `\`${key}\` needs Harvester v${since} or newer; this site installs ${raw}`,
        hint: `Remove it, or raise harvester.version to v${since}.0 or newer (the ${raw} installer would silently ignore it).`,
        at,
        target: 'key',
      });
    const get = (obj: unknown, dotted: string): unknown =>
      dotted.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
    for (const [key, since] of Object.entries(SITE_KEY_SINCE)) {
      if (!atLeast(v, since) && get(input, key) !== undefined) tooNew(key, since, key.split('.'));
    }
    const entries: [unknown, InventoryPath][] = [
      [input.defaults, ['defaults']],
      ...(input.nodes ?? []).map((n, i): [unknown, InventoryPath] => [n, ['nodes', i]]),
    ];
    for (const [entry, base] of entries) {
      for (const [key, since] of Object.entries(NODE_KEY_SINCE)) {
        if (!atLeast(v, since) && get(entry, key) !== undefined) tooNew(key, since, [...base, ...key.split('.')]);
      }
    }
    if (input.boot.firmware === 'bios' && atLeast(v, BIOS_REFUSED_SINCE)) {
      report({
        code: 'HARVESTER_BIOS_UNSUPPORTED',
        message: `Harvester ${raw} refuses to install on legacy BIOS machines (since v${BIOS_REFUSED_SINCE})`,
        hint: 'Switch the machines to UEFI and set `boot.firmware: uefi`, or install v1.7.x.',
        at: ['boot', 'firmware'],
      });
    }
  },
};
