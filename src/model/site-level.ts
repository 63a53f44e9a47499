// What every node of a site is resolved against besides the site's input (its release, OS
// profiles and cluster), and the Harvester release a planned upgrade installs.
import { swapVersion } from '../harvester/versions.ts';
import type { SiteInput } from '../types/site-input.ts';
import { normalizeMac } from '../util/mac.ts';
import type { SiteLevel } from './cache.ts';
import { BUILTIN_DEFAULTS as D } from './defaults.ts';
import { releaseFor, releaseTable } from './release.ts';
import type { Release, ResolvedCluster, ResolvedOs, SiteUpgrade } from './types.ts';

/** What every node of a site is resolved against, besides the site's input. */
export function resolveSiteLevel(input: SiteInput): SiteLevel {
  const installed = installedHarvester(input.harvester);
  const siteRelease = installed ? releaseFor(installed, input.nginx, installed.version) : undefined;
  const osProfiles: Record<string, ResolvedOs> = {};
  for (const [name, p] of Object.entries(input.os_profiles ?? {})
    .filter((e): e is [string, NonNullable<(typeof e)[1]>] => e[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    osProfiles[name] = {
      name,
      kernel: p.kernel,
      initrds: p.initrds,
      params: p.params ?? [],
      ...(p.root !== undefined ? { root: p.root } : {}),
      // The config format the profile names (src/derive/configs/), none with `cloud_init: false`.
      ...(p.cloud_init === false ? {} : { configFormat: p.config_format ?? 'nocloud' }),
      cloudInit: p.cloud_init !== false && (p.config_format ?? 'nocloud') === 'nocloud',
      ...(p.shim !== undefined ? { shim: p.shim } : {}),
    };
  }
  const cluster = input.cluster ? resolveCluster(input.cluster) : undefined;
  return {
    ...(siteRelease ? { siteRelease } : {}),
    osProfiles,
    ...(cluster ? { cluster } : {}),
    ...(installed && siteRelease
      ? { harvester: { version: installed.version, release: releaseTable(installed, input.nginx, siteRelease) } }
      : {}),
  };
}

/**
 * `harvester:` as the nodes install it: after an upgrade that has run (`upgrade.done`), its target,
 * with the target in place of `version` in the artifacts and ISO URLs (as a node's
 * `harvester_version` is put in them, `releaseFor`).
 */
export function installedHarvester(h: SiteInput['harvester']): SiteInput['harvester'] {
  if (!h?.upgrade?.done) return h;
  const swap = (s: string) => swapVersion(s, h.version, h.upgrade!.to);
  return { ...h, version: h.upgrade.to, artifacts: swap(h.artifacts), ...(h.iso_url !== undefined ? { iso_url: swap(h.iso_url) } : {}) };
}

/**
 * A planned upgrade (`harvester.upgrade`, not done): its target release, from the site's release
 * table (the same object while the site-level inputs are, as a node's own release), and the
 * Version's fields.
 */
export function siteUpgrade(
  input: SiteInput,
  release: (v: string, arch: 'x86_64' | 'arm64') => Release,
  arch: 'x86_64' | 'arm64',
): SiteUpgrade | undefined {
  const u = input.harvester?.upgrade;
  if (!u || u.done) return undefined;
  return {
    to: release(u.to, arch),
    isoChecksum: u.iso_checksum,
    ...(u.release_date !== undefined ? { releaseDate: u.release_date } : {}),
    apply: u.apply ?? false,
  };
}

/** The `cluster:` section with defaults applied (secret references were resolved to strings before validation). */
function resolveCluster(c: NonNullable<SiteInput['cluster']>): ResolvedCluster {
  return {
    vip: c.vip,
    vipMode: c.vip_mode ?? D.cluster.vipMode,
    ...(c.vip_hw_addr !== undefined ? { vipHwAddr: normalizeMac(c.vip_hw_addr) ?? c.vip_hw_addr } : {}),
    token: c.token as string,
    ...(c.password !== undefined ? { password: c.password as string } : {}),
    sshAuthorizedKeys: c.ssh_authorized_keys ?? [],
    ntp: c.ntp ?? [],
    ...(c.pod_cidr !== undefined ? { podCidr: c.pod_cidr } : {}),
    ...(c.service_cidr !== undefined ? { serviceCidr: c.service_cidr } : {}),
    ...(c.cluster_dns !== undefined ? { clusterDns: c.cluster_dns } : {}),
    sans: c.sans ?? [],
    created: c.created ?? false,
  };
}
