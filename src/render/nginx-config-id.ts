// Which nginx config a server runs. A published site's nginx config answers one exact location
// (LAYOUT.servedConfig) with its own id: the SHA-256 of the config's text as rendered with the id
// written as 64 zeros. `nginx -s reload` returns before nginx has read the new config, and for a
// while the old workers still answer new connections with the old one; `harvgen pull` asks that
// location until it answers the new tree's id, and only then verifies what is served
// (src/pull/verify.ts). One place writes the id and reads it back.
import { createHash } from 'node:crypto';

/** The id as the template writes it, before sealConfigId. */
export const CONFIG_ID_UNSET = '0'.repeat(64);

/** The directive that answers the id (nginx turns the `\n` of a quoted string into a newline). */
const answer = (id: string) => `return 200 "${id}\\n";`;

/** The body nginx sends for `id`. */
export const configIdBody = (id: string): string => `${id}\n`;

/**
 * The rendered config with its id written in: the last `return 200 "<zeros>\n";` (the marker's
 * location is the last one of the site's that the template writes with values; everything after it
 * is fixed text) becomes the SHA-256 of the text as it was. A text without the marker is returned as it is.
 */
export function sealConfigId(text: string): string {
  const unset = answer(CONFIG_ID_UNSET);
  const at = text.lastIndexOf(unset);
  if (at < 0) return text;
  const id = createHash('sha256').update(text).digest('hex');
  return text.slice(0, at) + answer(id) + text.slice(at + unset.length);
}

/**
 * The id a config answers with (the last marker in it), when it is one sealConfigId wrote: its
 * text with the id as zeros hashes to it. Undefined for a config without one (a tree built before
 * the marker, a site without publish:) or whose id does not match its text.
 */
export function configIdOf(text: string): string | undefined {
  const re = /return 200 "([0-9a-f]{64})\\n";/g;
  let last: RegExpExecArray | undefined;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) last = m;
  if (last === undefined) return undefined;
  const id = last[1]!;
  const unset = text.slice(0, last.index) + answer(CONFIG_ID_UNSET) + text.slice(last.index + last[0].length);
  return createHash('sha256').update(unset).digest('hex') === id ? id : undefined;
}
