// harvester: the release must be one harvgen knows, and the inventory may only use
// settings and boot modes that release supports.
import { ARM64_SINCE, BIOS_REFUSED_SINCE, NODE_KEY_SINCE, SITE_KEY_SINCE } from '../../harvester/inventory-gates.ts';
import { atLeast, isSupported, namesVersion, parseVersion, SUPPORTED_RANGE, type HarvesterVersion } from '../../harvester/versions.ts';
import { isKnownRelease, newestOfLine, newestRelease } from '../../harvester/releases.ts';
import { installedHarvester, nodeFirmware } from '../../model/index.ts';
import type { HarvesterNode } from '../../model/types.ts';
import { memoEach } from '../../model/memo.ts';
import { eachNode, type Rule, type RuleContext } from '../rule.ts';
import type { InventoryPath } from '../../util/paths.ts';

/** Version supported; keys and firmware allowed for it. */
export const harvesterVersionRule: Rule = {
  name: 'harvester-version',
  codes: [
    'HARVESTER_VERSION_UNSUPPORTED',
    'HARVESTER_RELEASE_UNKNOWN',
    'HARVESTER_KEY_TOO_NEW',
    'HARVESTER_BIOS_UNSUPPORTED',
    'HARVESTER_ARTIFACTS_NO_VERSION',
  ],
  check(ctx) {
    const { input } = ctx;
    if (!input.harvester) return;
    // What the nodes install: after an upgrade that has run (upgrade.done), its target.
    const installed = installedHarvester(input.harvester)!;
    const raw = installed.version;
    const at: InventoryPath = input.harvester.upgrade?.done ? ['harvester', 'upgrade', 'to'] : ['harvester', 'version'];
    checkUpgradeArtifacts(ctx);
    const v = parseVersion(raw);
    if (!v || !isSupported(v)) {
      reportUnsupported(ctx, raw, at);
      return;
    }
    reportUnknownRelease(ctx, v, at);
    checkSiteKeys(ctx, v);
    checkUnknownJoinArch(ctx);
    // Node settings follow the release each node installs (its own harvester_version, or the site's).
    eachNode(ctx, 'harvester-version', (node, report) => {
      if (node.boot === 'harvester') checkNodeRelease({ ...ctx, report }, node, installed);
    });
    checkBios(ctx, raw);
  },
};

/** A release outside the lines harvgen knows (or no release at all), with the fix that fits it. */
function reportUnsupported({ report }: RuleContext, what: string, at: InventoryPath, node?: string): void {
  report({
    code: 'HARVESTER_VERSION_UNSUPPORTED',
    message: `Harvester ${what} is not a release harvgen knows (v${SUPPORTED_RANGE.oldest}.0 to v${SUPPORTED_RANGE.newest}.x; the newest is ${newestRelease()})`,
    hint: unsupportedHint(what),
    at,
    ...(node !== undefined ? { node } : {}),
  });
}

/**
 * The hint of HARVESTER_VERSION_UNSUPPORTED: move to a release harvgen knows, naming the newest (a
 * version without its `v` is the schema step's to report: src/validate/schema.ts).
 */
function unsupportedHint(what: string): string {
  const newest = newestRelease();
  const v = parseVersion(what);
  if (v && !atLeast(v, SUPPORTED_RANGE.oldest)) {
    return `Harvester ${what} is older than harvgen supports: install v${SUPPORTED_RANGE.oldest}.0 or newer; the newest release harvgen knows is ${newest}.`;
  }
  if (v) {
    return `The newest release harvgen knows is ${newest}: use it, or upgrade harvgen if ${what} has been published since (its rules are checked against each release's installer).`;
  }
  return `Write a release tag such as ${newest}, the newest release harvgen knows.`;
}

/** A release of a known line that was never published has no files to fetch (fetch.sh fails) and no installer to judge. */
function reportUnknownRelease({ report }: RuleContext, nv: HarvesterVersion, at: InventoryPath, node?: string): void {
  if (isKnownRelease(nv)) return;
  const newest = newestOfLine(nv);
  report({
    code: 'HARVESTER_RELEASE_UNKNOWN',
    message: `Harvester ${nv.raw} was never published as far as harvgen knows (its newest ${nv.major}.${nv.minor} release is ${newest ?? 'unknown'}; the newest release is ${newestRelease()})`,
    hint: `Check the version${newest !== undefined ? `: did you mean ${newest}?` : '.'} If the release is newer than this harvgen, upgrade harvgen, whose rules are checked against each release's installer.`,
    at,
    ...(node !== undefined ? { node } : {}),
  });
}

/** Site-level keys that need a newer release than the site's. */
function checkSiteKeys({ input, report }: RuleContext, v: HarvesterVersion): void {
  const raw = v.raw;
  const get = (obj: unknown, dotted: string): unknown =>
    dotted.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
  for (const [key, since] of Object.entries(SITE_KEY_SINCE)) {
    if (atLeast(v, since) || get(input, key) === undefined) continue;
    report({
      code: 'HARVESTER_KEY_TOO_NEW',
      message: `\`${key}\` needs Harvester v${since} or newer; this site installs ${raw}`,
      hint: `Remove it, or raise harvester.version to v${since}.0 or newer (the ${raw} installer would silently ignore it).`,
      at: key.split('.'),
      target: 'key',
    });
  }
}

/** Unknown machines joining install the arch of the defaults (their script refuses any other). */
function checkUnknownJoinArch({ model, report }: RuleContext): void {
  const join = model.unknownJoin;
  if (!join?.release || join.arch !== 'arm64' || atLeast(join.release.version, ARM64_SINCE)) return;
  report({
    code: 'HARVESTER_KEY_TOO_NEW',
    message: `\`boot.unknown: join\` installs unknown machines as arm64 (the arch of defaults), which needs Harvester v${ARM64_SINCE} or newer; this site installs ${join.release.version.raw}`,
    hint: `Raise harvester.version to v${ARM64_SINCE}.0 or newer, or set \`arch: x86_64\` in defaults.`,
    at: join.sources.arch ?? ['boot', 'unknown'],
  });
}

/** One Harvester node against the release it installs: supported, published, its keys, arch and files. */
function checkNodeRelease(ctx: RuleContext, node: HarvesterNode, installed: Installed): void {
  const raw = installed.version;
  const nv = node.release.version;
  const own = node.sources.harvester_version;
  if (own && !isSupported(nv)) {
    reportUnsupported(ctx, nv.raw, own, node.hostname);
    return;
  }
  if (own && nv.raw !== raw) reportUnknownRelease(ctx, nv, own, node.hostname);
  checkNodeKeys(ctx, node);
  if (own && nv.raw !== raw) checkNodeArtifacts(ctx, node, installed);
}

/** Legacy BIOS, said once for the site: at the first Harvester node whose release refuses it. */
function checkBios(ctx: RuleContext, raw: string): void {
  const { model, report } = ctx;
  // Whether each node's release refuses it, kept per node (watch); the first that does is reported.
  const refused = memoEach(ctx.memo, 'harvester-version:bios', model.nodes, (node) => {
    if (node.boot !== 'harvester') return false;
    const nv = node.release.version;
    if (nodeFirmware(model, node) !== 'bios' || !atLeast(nv, BIOS_REFUSED_SINCE)) return false;
    // A node's own release outside the supported lines is reported as such, not judged here.
    const own = node.sources.harvester_version;
    return !(own && !isSupported(nv));
  });
  const node = model.nodes[refused.indexOf(true)];
  if (node?.boot !== 'harvester') return;
  const nv = node.release.version;
  const own = node.sources.harvester_version;
  report({
    code: 'HARVESTER_BIOS_UNSUPPORTED',
    message: `Harvester ${nv.raw} refuses to install on legacy BIOS machines (since v${BIOS_REFUSED_SINCE})`,
    hint: 'Switch the machines to UEFI and set `boot.firmware: uefi`, or install v1.7.x with `boot.skipchecks: true` (v1.7 stops BIOS installs in its preflight check).',
    at: own && nv.raw !== raw ? own : ['boot', 'firmware'],
  });
}

/** The node's arch and keys that need a newer release than the node installs. */
function checkNodeKeys({ report }: RuleContext, node: HarvesterNode): void {
  const nv = node.release.version;
  if (node.arch === 'arm64' && !atLeast(nv, ARM64_SINCE)) {
    report({
      code: 'HARVESTER_KEY_TOO_NEW',
      node: node.hostname,
      message: `\`arch: arm64\` needs Harvester v${ARM64_SINCE} or newer (the first arm64 release); node ${node.hostname} installs ${nv.raw}`,
      hint: `Raise the release (harvester.version or the node's harvester_version) to v${ARM64_SINCE}.0 or newer, or boot an arm64 OS profile instead.`,
      at: node.sources.arch ?? ['nodes', node.index],
    });
  }
  for (const [key, since] of Object.entries(NODE_KEY_SINCE)) {
    const at = node.sources[key];
    if (at === undefined || atLeast(nv, since)) continue;
    report({
      code: 'HARVESTER_KEY_TOO_NEW',
      node: node.hostname,
      message: `\`${key}\` needs Harvester v${since} or newer; node ${node.hostname} installs ${nv.raw}`,
      hint: `Remove it, or raise the release (harvester.version or the node's harvester_version) to v${since}.0 or newer (the ${nv.raw} installer would silently ignore it).`,
      at,
      target: 'key',
    });
  }
}

/** `harvester:` as the nodes install it (installedHarvester). */
type Installed = NonNullable<ReturnType<typeof installedHarvester>>;

/** The URL fields of `h` that do not name its release, where another release's version could not be put in. */
function unnamed(h: Installed): ('artifacts' | 'iso_url')[] {
  const fields = [
    ['artifacts', h.artifacts],
    ['iso_url', h.iso_url],
  ] as const;
  return fields.filter(([, url]) => url !== undefined && !namesVersion(url, h.version)).map(([field]) => field);
}

/**
 * An upgrade's target finds its files (and ISO) by its version in place of the site's, as a
 * node's own release does: the URLs must name the site's release.
 */
function checkUpgradeArtifacts({ input, report }: RuleContext): void {
  const h = input.harvester;
  if (!h?.upgrade || h.upgrade.to === h.version) return;
  for (const field of unnamed(h)) {
    report({
      code: 'HARVESTER_ARTIFACTS_NO_VERSION',
      message: `the upgrade goes to ${h.upgrade.to}, but harvester.${field} does not name the site's release ${h.version}, so harvgen cannot tell where the ${h.upgrade.to} files are (it would name the ${h.version} ones)`,
      hint: `Put the release in the URL (e.g. .../artifacts/${h.version}): the upgrade's target then finds its files at .../artifacts/${h.upgrade.to}.`,
      at: ['harvester', field],
    });
  }
}

/** Another release's files are found by putting its version in place of the site's: the URLs must name it. */
function checkNodeArtifacts({ report }: RuleContext, node: HarvesterNode, installed: Installed): void {
  const nv = node.release.version;
  const raw = installed.version;
  // The URLs as the nodes read them (after an upgrade that has run, with its target in them).
  for (const field of unnamed(installed)) {
    report({
      code: 'HARVESTER_ARTIFACTS_NO_VERSION',
      node: node.hostname,
      message: `node ${node.hostname} installs ${nv.raw}, but harvester.${field} does not name the site's release ${raw}, so harvgen cannot tell where the ${nv.raw} files are`,
      hint: `Put the release in the URL (e.g. .../artifacts/${raw}): a node's harvester_version then finds its files at .../artifacts/${nv.raw}.`,
      at: ['harvester', field],
    });
  }
}
