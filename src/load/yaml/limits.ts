// The limits of what one inventory file may hold or stand for, checked where the file is parsed:
// scan.ts counts keys and items, expansion.ts sizes what aliases expand to, parse.ts hands the
// alias count to the yaml library and reports all three.

/**
 * The yaml library's alias bomb guard: an anchor's uses times the aliases nested in its value
 * may not pass this (a "billion laughs" file stops here before it is expanded).
 */
export const MAX_ALIAS_COUNT = 100;

/**
 * How much a file may stand for with every alias expanded, counted as the characters of each key
 * and value as written, at least one per value, plus one per mapping, list and `key: value` pair.
 * A file without aliases counts less than 1.5 times its length, and a file may hold 1 MiB
 * (LOAD_FILE_TOO_LARGE): so no file written out in full comes near 2 MiB, and aliases, a
 * shorthand for repeating what is written, cannot make a file stand for more than a file could
 * hold. Without it, 99 aliases of a 950 KB `config:` value passed the library's guard (each use
 * counts once) and made every node's config 94 MB.
 */
export const MAX_EXPANDED_SIZE = 2 * 1024 * 1024;

/**
 * Keys one mapping, and items one list, may have. Inventory mappings are written by hand: the
 * node settings have a few dozen keys, the free-form maps of `config:` (`os.sysctls`,
 * `os.labels`, `os.environment`) hold tens, and the longest lists (`nodes:` written in site.yaml,
 * `ssh_authorized_keys`) hold a cluster's worth. 10,000 leaves room for generated inventories
 * while bounding the work each node does with a mapping or list (merged over its layers, checked
 * against the installer schema, written out; 200,000 `kernel_args` overflowed the stack).
 */
export const MAX_MAP_KEYS = 10_000;
