// The Harvester side of a site, shared by its Harvester nodes: the cluster they form and the
// release they install (and the one a planned upgrade installs).
import type { HarvesterVersion } from '../harvester/versions.ts';

/** The `cluster:` section with defaults applied. */
export interface ResolvedCluster {
  readonly vip: string;
  readonly vipMode: 'static' | 'dhcp';
  readonly vipHwAddr?: string;
  readonly token: string;
  readonly password?: string;
  readonly sshAuthorizedKeys: readonly string[];
  readonly ntp: readonly string[];
  readonly podCidr?: string;
  readonly serviceCidr?: string;
  readonly clusterDns?: string;
  readonly sans: readonly string[];
  /** `cluster.created`: the cluster exists, so every node joins it (none creates). */
  readonly created: boolean;
}

/** A Harvester release as one node installs it: version, release files and where nginx finds them. */
export interface Release {
  readonly version: HarvesterVersion;
  /** Release line, e.g. '1.4'. */
  readonly minor: string;
  readonly artifacts: ResolvedArtifacts;
  readonly isoUrl: string;
  /** The architecture of the release files (Harvester names them amd64 / arm64). */
  readonly arch: 'x86_64' | 'arm64';
  /** Directory on the web server holding this release's files. */
  readonly artifactsDir: string;
}

/** URLs and names of the release files. */
export interface ResolvedArtifacts {
  readonly base: string;
  readonly kernelName: string;
  readonly initrdName: string;
  readonly rootfsName: string;
  readonly isoName: string;
  readonly checksumName: string;
  /** SUSE's signed shim of the release (Secure Boot), taken out of the ISO by fetch.sh. */
  readonly shimName: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly rootfs: string;
  readonly iso: string;
  readonly checksum: string;
  readonly shim: string;
}

/** `harvester.upgrade` while it has not run: the target release and what its `Version` manifest says. */
export interface SiteUpgrade {
  /** The target release (its files served beside the installed one's). */
  readonly to: Release;
  /** SHA-512 of the target's ISO for the cluster's architecture (128 lower-case hex digits). */
  readonly isoChecksum: string;
  /** `YYYYMMDD`. */
  readonly releaseDate?: string;
  /** Write the `Upgrade` manifest and the apply script too. */
  readonly apply: boolean;
}
