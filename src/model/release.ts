// The release files a Harvester node installs: its version's kernel, initrd, root file system, ISO,
// checksums and SUSE shim, where the web server finds them and where nginx keeps them.
import type { SiteInput } from '../types/site-input.ts';
import { parseVersion, swapVersion, type HarvesterVersion } from '../harvester/versions.ts';
import { BUILTIN_DEFAULTS as D } from './defaults.ts';
import type { Release } from './types.ts';

/**
 * The release files of Harvester `v` for a site: the site's own release as written, another
 * release (a node's `harvester_version`) by putting `v` in place of the site's release in the
 * artifacts URL, the ISO URL and the default artifacts directory.
 */
export function releaseFor(
  harvester: NonNullable<SiteInput['harvester']>,
  nginx: SiteInput['nginx'],
  v: string,
  arch: 'x86_64' | 'arm64' = 'x86_64',
): Release {
  // Harvester names its files by Debian-style architecture: amd64, arm64 (v1.3 and later).
  const a = arch === 'arm64' ? 'arm64' : 'amd64';
  const site = harvester.version;
  const swap = (s: string) => swapVersion(s, site, v);
  const version = (parseVersion(v) ?? parseVersion(site)) as HarvesterVersion;
  const base = swap(harvester.artifacts.replace(/\/+$/, ''));
  const names = {
    kernelName: `harvester-${v}-vmlinuz-${a}`,
    initrdName: `harvester-${v}-initrd-${a}`,
    rootfsName: `harvester-${v}-rootfs-${a}.squashfs`,
    isoName: `harvester-${v}-${a}.iso`,
    checksumName: `harvester-${v}-${a}.sha512`,
    // Not published by Harvester: fetch.sh takes it out of the verified ISO (EFI/BOOT/bootx64.efi).
    shimName: `harvester-${v}-shim-${a}.efi`,
  };
  const artifacts = {
    base,
    ...names,
    kernel: `${base}/${names.kernelName}`,
    initrd: `${base}/${names.initrdName}`,
    rootfs: `${base}/${names.rootfsName}`,
    iso: `${base}/${names.isoName}`,
    checksum: `${base}/${names.checksumName}`,
    shim: `${base}/${names.shimName}`,
  };
  return {
    version,
    minor: `${version.major}.${version.minor}`,
    artifacts,
    arch,
    // An explicit iso_url names the x86-64 ISO; arm64 nodes take theirs next to their files.
    isoUrl: harvester.iso_url !== undefined && arch === 'x86_64' ? swap(harvester.iso_url) : artifacts.iso,
    // Release files carry their version in their names, so one explicit directory holds them all.
    artifactsDir: nginx?.artifacts_dir ?? `${D.nginx.rootBase}/artifacts/${v}`,
  };
}

/** One Release object per version and architecture, shared by its nodes (a 10,000-node site held 10,000 copies). */
export function releaseTable(
  harvester: NonNullable<SiteInput['harvester']>,
  nginx: SiteInput['nginx'],
  site: Release,
): (v: string, arch: 'x86_64' | 'arm64') => Release {
  const releases = new Map<string, Release>([[`${harvester.version}/x86_64`, site]]);
  return (v, arch) => {
    const key = `${v}/${arch}`;
    let r = releases.get(key);
    if (r === undefined) releases.set(key, (r = releaseFor(harvester, nginx, v, arch)));
    return r;
  };
}
