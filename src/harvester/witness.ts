// What a witness node's installer does with a data disk and a persistent partition, by release:
// the one place the renderer (what it writes into a witness's config) and the installer rules
// (which minimums apply) ask.
//
// harvester-installer, read at every tag:
// - v1.3.0 to v1.5.2: no witness case at all. A witness with a `data_disk` gets the separate-disk
//   minimums (install disk 180 GiB, data disk 50 GiB: console/validator.go checkDevice) and its
//   data disk formatted and mounted; without one, 250 GiB and a persistent partition on the
//   install disk (config/cos.go calcCosPersistentPartSize), as on any node.
// - v1.6.0 and later: a witness gets no data partition (config/config.go
//   ShouldCreateDataPartitionOnOsDisk, ShouldMountDataPartition), its install disk needs 180 GiB
//   and its data disk is not checked (checkDevice's witness branch); `persistent_partition_size`
//   is ignored, and a `data_disk` would still be formatted by harv-install (util.go doInstall
//   exports HARVESTER_DATA_DISK) and never mounted.
import { atLeast, type HarvesterVersion } from './versions.ts';

/** The release gives a witness no data partition (v1.6.0 and later). */
export function witnessHasNoData(v: HarvesterVersion): boolean {
  return atLeast(v, '1.6');
}

/**
 * Whether harvgen writes a witness's `install.data_disk` and `install.persistent_partition_size`
 * into its config: where the installer uses them (before v1.6.0), as the inventory asks; from
 * v1.6.0 never (the installer would format the data disk for nothing).
 */
export function witnessKeepsDataSettings(v: HarvesterVersion): boolean {
  return !witnessHasNoData(v);
}
