// What keeps a string from being the base URL of an HTTP server to fetch from: verify's --url and
// --release-base, a fleet record's boot_server. Each caller words the answer for its reader.

/** Why `u` is no http(s) base URL: not a URL at all, another scheme, or parts a base must not carry. */
export type BaseUrlFault = 'not-url' | 'scheme' | 'parts';

/** What is wrong with `u` as an http:// or https:// base URL (undefined: nothing). */
export function baseUrlFault(u: string): BaseUrlFault | undefined {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return 'not-url';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'scheme';
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return 'parts';
  return undefined;
}
