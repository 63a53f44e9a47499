// MAC addresses arrive in many spellings (colons, hyphens, Cisco dots, bare hex, any case).
// Everything inside harvgen uses the lowercase colon form, which is also what iPXE's
// `${mac}` prints; file names use the hyphen form (`${mac:hexhyp}`), which is safe in URLs
// and paths.

/** Normalize a MAC to `aa:bb:cc:dd:ee:ff`; undefined when it is not a MAC address. */
export function normalizeMac(text: string): string | undefined {
  const t = text.trim();
  let hex: string | undefined;
  if (/^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/.test(t)) hex = t.replace(/[:-]/g, '');
  else if (/^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(t)) hex = t.replace(/\./g, '');
  else if (/^[0-9A-Fa-f]{12}$/.test(t)) hex = t;
  if (!hex) return undefined;
  return hex.toLowerCase().match(/../g)!.join(':');
}

/** `aa:bb:cc:dd:ee:ff` -> `aa-bb-cc-dd-ee-ff` (the name of the node's iPXE script). */
export function macToHyphen(mac: string): string {
  return mac.replace(/:/g, '-');
}

/** True for a multicast MAC (lowest bit of the first octet), which no NIC boots with. */
export function isMulticastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}
