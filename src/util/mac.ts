// MAC addresses arrive in many spellings (colons, hyphens, Cisco dots, bare hex, any case).
// Everything inside harvgen uses the lowercase colon form, which is also what iPXE's
// `${mac}` prints; file names use the hyphen form (`${mac:hexhyp}`), which is safe in URLs
// and paths.

/** Normalize a MAC to `aa:bb:cc:dd:ee:ff`; undefined when it is not a MAC address. */
export function normalizeMac(text: string): string | undefined {
  // Most MACs are written as they are kept: taken as they are, without a regular expression
  // (the rules and renderers of a 10,000-node site normalize each MAC several times).
  if (isCanonicalMac(text)) return text;
  const t = text.trim();
  let hex: string | undefined;
  if (/^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/.test(t)) hex = t.replace(/[:-]/g, '');
  else if (/^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(t)) hex = t.replace(/\./g, '');
  else if (/^[0-9A-Fa-f]{12}$/.test(t)) hex = t;
  if (!hex) return undefined;
  return hex.toLowerCase().match(/../g)!.join(':');
}

/** Whether `t` is already `aa:bb:cc:dd:ee:ff` (lowercase hex digits, colons). */
function isCanonicalMac(t: string): boolean {
  if (t.length !== 17) return false;
  for (let i = 0; i < 17; i++) {
    const c = t.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 58) return false; // ':'
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false; // 0-9, a-f
  }
  return true;
}

/**
 * The hyphen form of each MAC asked for: a node's file paths are made from it many times over
 * (its scripts, its config's URL, the manifest, nginx's allow list). Up to HYPHENS MACs are kept.
 */
const hyphens = new Map<string, string>();
const HYPHENS = 65_536;

/** `aa:bb:cc:dd:ee:ff` -> `aa-bb-cc-dd-ee-ff` (the name of the node's iPXE script). */
export function macToHyphen(mac: string): string {
  let h = hyphens.get(mac);
  if (h === undefined) {
    h = mac.replaceAll(':', '-');
    if (hyphens.size >= HYPHENS) hyphens.clear();
    hyphens.set(mac, h);
  }
  return h;
}

/** True for a multicast MAC (lowest bit of the first octet), which no NIC boots with. */
export function isMulticastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}
