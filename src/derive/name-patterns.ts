// The shapes of the names of a node's files, as regular-expression sources, for the readers that
// recognise them by name (status's tally of the access logs, the config formats' patterns).

/** Hex characters of a tag: 128 bits of HMAC-SHA256. */
export const TAG_LENGTH = 32;

/** A hostname (the schema's form). */
export const HOSTNAME_PATTERN = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';

/** The tag of a keyed name (nginx.file_key) after its `-`: the real one, or the committed tree's mask. */
export const TAG_PATTERN = `-(?:[0-9a-f]{${TAG_LENGTH}}|x{${TAG_LENGTH}})`;

/** A MAC as file names write it (`52-54-00-aa-bb-cc`). */
export const MAC_HYPHEN_PATTERN = '[0-9a-f]{2}(?:-[0-9a-f]{2}){5}';

/** A site's name (the schema's form). */
export const SITE_NAME_PATTERN = '[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?';

/** `s` as a regular expression's source that matches it literally. */
export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
