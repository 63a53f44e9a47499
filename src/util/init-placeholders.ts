// What `harvgen init` writes where only the owner knows the value (src/cli/init.ts), and what the
// NODE_PLACEHOLDER warnings look for until it is replaced (src/validate/rules/node-identity.ts,
// node-disks.ts). One place, so that the two cannot drift apart.

/** The most nodes init writes (their addresses stay below the VIP). */
export const MAX_INIT_NODES = 99;

/** The install disk of a bare-metal site: a persistent name that no machine has. */
export const PLACEHOLDER_DISK = '/dev/disk/by-id/REPLACE-with-the-install-disk';

/** The boot MAC of a bare-metal node, by its two hex digits: locally administered, in no NIC. */
export const placeholderMac = (hex: string): string => `02:00:00:00:00:${hex}`;

/** Any MAC placeholderMac gives (normalized: lower case, colons). */
export const PLACEHOLDER_MAC = /^02:00:00:00:00:[0-9a-f]{2}$/;
