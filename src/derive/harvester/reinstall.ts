// Reinstall generations (`reinstall: <n>`): the installed system carries a marker of its site,
// hostname and generation on its EFI system partition, written by an after-install command the
// node's config appends to `os.after_install_chroot_commands`; the node's install-once script
// boots the disk only when it finds the marker of the current generation.
//
// Where the command runs (harvester-installer v1.2 to master): harv-install runs `elemental
// install`, which copies the config's cos stages to the new OEM partition and runs the
// `after-install-chroot` stage (pkg/config/templates/cos-after-install-chroot.yaml) chrooted into
// the new system's root tree, with only /oem and /usr/local of the new disk bound in, plus /dev,
// /dev/pts, /proc and /sys. The EFI partition is mounted outside the chroot only, so the command
// finds it itself: the disk that holds /oem, its partition with the ESP's label, mounted on a
// temporary directory that is removed again (the root tree becomes the system image).
import type { HarvesterNode, SiteModel } from '../../model/index.ts';
import { escapers } from '../../formats/escape.ts';

/** The node's generation marker: FAT volume label and the absolute path of the file on it. */
export interface GenerationMarker {
  readonly volume: string;
  readonly file: string;
}

/**
 * The marker of `node`'s current generation, or undefined when it has none (no `reinstall`, or
 * the node unknown machines join as, which has no hostname). Site and hostname are both in the
 * path, so a disk installed by another site or for another node never counts; the site name and
 * hostname are lowercase letters, digits, `_` and `-` (the schema), which FAT stores as they are.
 */
export function generationMarker(model: SiteModel, node: HarvesterNode): GenerationMarker | undefined {
  if (node.reinstall === undefined || node.hostname === '') return undefined;
  return { volume: model.boot.installedMarker.volume, file: `/harvgen/${model.site}/${node.hostname}.${node.reinstall}` };
}

/** `file://<volume><file>`: the marker as iPXE's `imgfetch` names it (UEFI volumes by label). */
export function generationMarkerUri(marker: GenerationMarker): string {
  return `file://${marker.volume}${marker.file}`;
}

/**
 * The after-install command that writes `marker` (one POSIX sh line, no `{{`, which yip would
 * read as a template). It fails (non-zero) when the marker could not be written; the installer
 * logs that and goes on, and the node then installs again on its next network boot.
 */
export function generationCommand(marker: GenerationMarker): string {
  const sh = escapers.sh;
  const dir = marker.file.slice(0, marker.file.lastIndexOf('/'));
  return [
    // The disk of the new OEM partition (bound at /oem), and its partition labelled as the ESP
    // (probed afresh: no blkid cache read, and none written into the new root tree).
    `k=$(lsblk -ndo PKNAME "$(findmnt -nvo SOURCE /oem)")`,
    `e=$(blkid -c /dev/null -o device -t ${sh(`LABEL=${marker.volume}`)} $(lsblk -nrpo NAME "/dev/$k"))`,
    'm=$(mktemp -d)',
    'mount "$e" "$m"',
    `mkdir -p "$m"${sh(dir)}`,
    `touch "$m"${sh(marker.file)}; r=$?; umount "$m"; rmdir "$m"; test "$r" = 0`,
  ].join(' && ');
}

/** `os.after_install_chroot_commands` of `config` with `command` appended (the user's own kept first). */
export function withGenerationCommand(config: Record<string, unknown>, command: string): Record<string, unknown> {
  const os = config.os;
  if (os !== undefined && (os === null || typeof os !== 'object' || Array.isArray(os))) return config;
  const o = (os ?? {}) as Record<string, unknown>;
  const own = o.after_install_chroot_commands;
  // Not a list: left as it is, for the installer schema check to report.
  if (own !== undefined && !Array.isArray(own)) return config;
  return { ...config, os: { ...o, after_install_chroot_commands: [...((own as unknown[] | undefined) ?? []), command] } };
}
