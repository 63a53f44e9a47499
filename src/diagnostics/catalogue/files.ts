// The codes of reading an inventory and of its files, secrets, signing and publishing settings (in
// the order of the reference; src/diagnostics/catalogue/inventory.ts joins them with the others).
import { c, type CodeInfo } from './info.ts';

/** Loading, YAML, schema, secrets, signed trees and fleet publishing. */
export const FILE_CODES = {
  // load: finding and reading the files
  LOAD_SITE_DIR_NOT_FOUND: c('error', 'invalid', 'The site directory does not exist or is not a directory.'),
  LOAD_SITE_YAML_MISSING: c('error', 'invalid', 'The site directory has no site.yaml.'),
  LOAD_READ_FAILED: c('error', 'failed', 'A file could not be read.'),
  LOAD_CHANGED_DURING_BUILD: c(
    'error',
    'failed',
    'The inventory of a site changed between the two readings of a build of many sites; nothing was written for it.',
  ),
  LOAD_FILE_TOO_LARGE: c('error', 'invalid', 'An inventory file is larger than the limit (1 MiB).'),
  LOAD_BINARY_FILE: c('error', 'invalid', 'An inventory file contains NUL bytes (it is not text).'),
  LOAD_INVALID_UTF8: c('error', 'invalid', 'An inventory file is not valid UTF-8.'),
  LOAD_OUTSIDE_REPOSITORY: c(
    'error',
    'invalid',
    'A file or directory the site would read is outside its repository (the nearest directory with a `.git`, else the site directory alone), by its real path: through a link or `../`.',
  ),
  // yaml: parsing
  YAML_SYNTAX: c('error', 'invalid', 'The file is not valid YAML.'),
  YAML_DUPLICATE_KEY: c('error', 'invalid', 'A mapping has the same key twice.'),
  YAML_TAB_INDENT: c('error', 'invalid', 'Tabs are used for indentation.'),
  YAML_MULTI_DOCUMENT: c('error', 'invalid', 'The file holds more than one YAML document.'),
  YAML_EMPTY: c('error', 'invalid', 'The file is empty.'),
  YAML_ALIAS_LIMIT: c(
    'error',
    'invalid',
    'Aliases expand the file beyond the limit (2 MiB of keys and values, or a YAML "billion laughs" bomb), or an alias is inside the value of its own anchor.',
  ),
  YAML_TOO_MANY_KEYS: c('error', 'invalid', 'A mapping has more than 10,000 keys, or a list more than 10,000 items.'),
  YAML_NOT_A_MAP: c('error', 'invalid', 'The top level of the file is not a mapping.'),
  YAML_TAG: c(
    'error',
    'invalid',
    'A YAML tag (`!!binary`, `!!set`, `!custom`, ...), a `__proto__` key (also through an alias) or a list or mapping as a key: an inventory holds plain data only.',
  ),
  // schema: shape of the inventory
  SCHEMA_UNKNOWN_KEY: c('error', 'invalid', 'A key the inventory format does not have.'),
  SCHEMA_REQUIRED: c('error', 'invalid', 'A required key is missing.'),
  SCHEMA_TYPE: c('error', 'invalid', 'A value has the wrong type.'),
  SCHEMA_ENUM: c('error', 'invalid', 'A value is not one of the allowed choices.'),
  SCHEMA_PATTERN: c('error', 'invalid', 'A value does not have the required form.'),
  SCHEMA_RANGE: c('error', 'invalid', 'A number or list is outside the allowed range or size.'),
  SCHEMA_INVALID: c('error', 'invalid', 'A value breaks another rule of the inventory schema.'),
  // secrets
  SECRET_ENV_MISSING: c('error', 'invalid', 'A secret comes from an environment variable that is not set (or empty).'),
  SECRET_FILE_MISSING: c('error', 'invalid', 'A secret comes from a file that does not exist, cannot be read or is empty.'),
  SECRET_INLINE: c('warning', 'invalid', 'A token or plain-text password is written in the inventory (it is in git).'),
  FILE_KEY_TOO_SHORT: c('error', 'invalid', '`nginx.file_key` is shorter than 32 characters: the names it keys would be guessable.'),
  SECRET_KEY_NOT_IGNORED: c(
    'error',
    'invalid',
    'A private key file (`signing.private_key`, `publish.key` as `{ file }`) is tracked by git, or not ignored by the repository: `git add -A` would commit it. Ignore its directory in .gitignore.',
  ),
  SECRET_KEY_UNPROTECTED: c(
    'error',
    'invalid',
    'A private key file others may access: the signing key (an SSH key) that its group or other users may read or write, as ssh refuses it ("UNPROTECTED PRIVATE KEY FILE"), or any key file (`publish.key`, `publish.cosign_key`, `nginx.file_key`) they may write. Read by deploy builds and `publish`; `chmod 600` the file.',
  ),
  SECRET_KEY_READABLE: c(
    'warning',
    'invalid',
    'A private key file (`publish.key`, `publish.cosign_key`, `nginx.file_key`) you own that its group or other users may read (a 0644 file): anyone else on the machine can read the key. `chmod 600` the file.',
  ),
  SECRET_TOO_LONG: c(
    'error',
    'invalid',
    'A secret is longer than 4096 bytes (a token is about 100 characters; longer ones cost gigabytes to hash).',
  ),
  // signed trees (signing:)
  SIGNING_PUBLIC_KEY_INVALID: c(
    'error',
    'invalid',
    '`signing.public_key` is not one OpenSSH public key line (`ssh-ed25519`/`ssh-rsa`/`ecdsa-sha2-*`, no options or second line), or is an ECDSA key, whose signatures differ at every build.',
  ),
  SIGNING_KEY_INVALID: c(
    'error',
    'invalid',
    'Deploy build: `signing.private_key` is not a private key ssh-keygen reads without a passphrase, or `signing.public_key` is not its public half.',
  ),
  SIGNING_FAILED: c(
    'error',
    'failed',
    'ssh-keygen (Debian package openssh-client) is missing or could not sign or check a signature: the job could not be done (exit 2).',
  ),
  // fleet publishing (publish:, harvgen publish, harvgen pull; docs/fleet.md)
  PUBLISH_UNSIGNED: c(
    'error',
    'invalid',
    '`publish:` without `signing:`: the boot server serves no published tree whose signature it cannot check.',
  ),
  PUBLISH_KEY_INVALID: c('error', 'invalid', '`publish.key` is not 64 hexadecimal digits (a 256-bit key, `openssl rand -hex 32`).'),
  PUBLISH_COSIGN_KEY: c(
    'error',
    'invalid',
    '`publish.cosign_public_key` is no Ed25519, ECDSA P-256 or RSA (2048-4096 bit) PEM public key, or `publish.cosign_key` is not an unencrypted PEM private key whose public half it is.',
  ),
  FAILOVER_SHARED_ADDRESS: c(
    'error',
    'invalid',
    "With `failover:`, `boot.server`'s host is not the shared address it must be: an IPv4 address inside `network.cidr`, outside the DHCP pool, neither server's nor a node's.",
  ),
  FAILOVER_SERVER_ADDRESS: c(
    'error',
    'invalid',
    "A `failover.servers` entry's address is not its own on the nodes' network (outside `network.cidr`, in the pool, the shared address, a node's or the other server's), or two servers share a name.",
  ),
  FAILOVER_INTERFACE: c(
    'error',
    'invalid',
    "With `failover:`, `failover.interface` is an address rather than an interface's name, or `dnsmasq.interface` names another interface than `failover.interface`: each server's DHCP server (Kea or dnsmasq) listens on `failover.interface`, where keepalived holds the shared address.",
  ),
  FAILOVER_UNSUPPORTED: c(
    'error',
    'invalid',
    '`failover:` with what harvgen writes no failover config for: ISC dhcpd, `network.ipv6`, `network.vlans`, an `nginx.listen` that names an address or another port, or another site served at the same address.',
  ),
  PUBLISH_SITE_NAME: c(
    'error',
    'invalid',
    'With `publish:`, the site name is not a registry repository name (lower-case letters and digits joined by `.`, `_`, `__` or hyphens).',
  ),
  PUBLISH_FAILED: c(
    'error',
    'failed',
    '`harvgen publish`, `export` or `import` could not reach the registry, authenticate, or write: the job could not be done (exit 2).',
  ),
  PUBLISH_RELEASE_MISSING: c(
    'error',
    'invalid',
    '`harvgen publish --releases <dir>`: a release file the site boots is missing there, or differs from what `fetch.sh` checks.',
  ),
  PUBLISH_DIRTY: c(
    'error',
    'invalid',
    '`harvgen publish`: the site directory or an input it reads (`_defaults.yaml`, `_profiles/`, a secret file) has uncommitted changes, so `<site>-<commit>` would name inputs no commit holds; commit first, or `--allow-dirty` (tagged `<site>-<commit>-dirty-<digest>`, then a warning).',
  ),
  PUBLISH_STATE_NOT_SAVED: c(
    'warning',
    'failed',
    '`harvgen publish`: the fleet state (`<namespace>/harvgen-fleet:state`) could not be written; what was published stays published, and the next run compiles those sites again.',
  ),
  PULL_REFUSED: c(
    'error',
    'invalid',
    '`harvgen pull` refused an artifact: a digest, the signature, the site, the sealing key or the serial did not check; the tree served before stays served.',
  ),
  PULL_FAILED: c(
    'error',
    'failed',
    '`harvgen pull` could not fetch, unpack, test or switch (registry, disk, nginx): the tree served before stays served (exit 2).',
  ),
} as const satisfies Record<string, CodeInfo>;
