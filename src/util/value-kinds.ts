// The kinds of inventory value that land verbatim in a generated file, each defined once as a
// pattern. scripts/site-schema.ts puts the pattern into the JSON Schema (so editors flag a bad
// value as it is typed) and marks the field with `x-harvgen-value: <kind>`; the schema stage
// then explains a mismatch precisely (which character, where, what is allowed). Every set is
// the intersection of what all the files the value reaches can hold as is: nginx, dnsmasq,
// systemd, POSIX sh, iPXE, the kernel command line and XML. The escapers in
// src/formats/escape.ts are the second line of defence; these sets are the first.

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
const PORT = '(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
// A DNS name whose last label has a letter (RFC 3696 §2), so `300.1.1.1` is never a "name".
const DNS_NAME = `(?:${LABEL}\\.)*(?=[A-Za-z0-9-]*[A-Za-z])${LABEL}`;
const HOST = `(?:${IPV4}|${DNS_NAME})`;
/** An IPv6 address in lower case (RFC 4291's text forms, no zone, no embedded IPv4). */
const H16 = '[0-9a-f]{1,4}';
const IPV6 = [
  `(?:${H16}:){7}${H16}`,
  `(?:${H16}:){1,7}:`,
  `(?:${H16}:){1,6}:${H16}`,
  `(?:${H16}:){1,5}(?::${H16}){1,2}`,
  `(?:${H16}:){1,4}(?::${H16}){1,3}`,
  `(?:${H16}:){1,3}(?::${H16}){1,4}`,
  `(?:${H16}:){1,2}(?::${H16}){1,5}`,
  `${H16}:(?::${H16}){1,6}`,
  `:(?:(?::${H16}){1,7}|:)`,
].join('|');
/** A URL's host: also an IPv6 address in brackets, in lower case. */
const URL_HOST = `(?:${HOST}|\\[(?:${IPV6})\\])`;
/** Characters allowed in a URL path: RFC 3986 unreserved plus a few sub-delims every format holds. */
const URL_PATH_CHARS = 'A-Za-z0-9._~+=,:@-';
// Path segments are never empty, `.` or `..`: nginx merges and resolves those before matching a
// location, so a location written with them would never match what the client asks for.
const URL_SEGMENTS = `(?:/(?!\\.\\.?(?:/|$))[${URL_PATH_CHARS}]+)*/?`;

/** A value kind: its pattern, a human description of the allowed form, and an example. */
export interface ValueKind {
  readonly pattern: string;
  readonly maxLength: number;
  /** Allowed form, for hints and the README. */
  readonly form: string;
  readonly example: string;
  /** Characters allowed anywhere in the value (for naming the first offending character). */
  readonly chars: RegExp;
}

/** Every value kind. */
export const VALUE_KINDS = {
  path: {
    pattern: '^/[A-Za-z0-9._~@+=:/-]*$',
    maxLength: 512,
    form: 'an absolute path of letters, digits and `. _ ~ @ + = : / -` (no whitespace, quotes, `,`, `;`, `{`, `}`, `#`, `$`, `\\` or control characters)',
    example: '/srv/harvgen/location_x',
    chars: /[A-Za-z0-9._~@+=:/-]/,
  },
  listen: {
    pattern: `^(?:(?:${IPV4}|\\*|\\[(?:${IPV6})\\]):)?${PORT}$`,
    maxLength: 47,
    form: '`address:port` with an IPv4 address, an IPv6 address in brackets (`[fd00:10::5]:80`) or `*` (all IPv4 addresses), or a bare port; port 1-65535',
    example: '192.168.122.1:80',
    chars: /[0-9a-f.:*[\]]/,
  },
  ifname: {
    pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,14}$',
    maxLength: 15,
    form: "a Linux interface name: 1-15 characters of letters, digits and `_ . @ + -`, not starting with `.`, `@`, `+` or `-` (Linux's own rule forbids `/`, `:` and whitespace; harvgen also keeps out characters the generated files would have to quote)",
    example: 'eno1',
    chars: /[A-Za-z0-9_.@+-]/,
  },
  ifnameGlob: {
    pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,14}\\*?$',
    maxLength: 16,
    form: 'a Linux interface name (1-15 characters of letters, digits and `_ . @ + -`), optionally ending in `*` to match several (dnsmasq wildcard)',
    example: 'eno1',
    chars: /[A-Za-z0-9_.@+*-]/,
  },
  dnsName: {
    pattern: `^${DNS_NAME}$`,
    maxLength: 253,
    form: 'a DNS name: dot-separated labels of letters, digits and inner hyphens (at most 63 characters each, the last one with a letter), no trailing dot',
    example: 'lab.example.com',
    chars: /[A-Za-z0-9.-]/,
  },
  serverUrl: {
    pattern: `^http://${URL_HOST}(?::${PORT})?(?:/(?!\\.\\.?(?:/|$))[A-Za-z0-9._~-]+)*/?$`,
    maxLength: 512,
    form: '`http://host[:port]`, optionally with a path prefix of segments of letters, digits and `. _ ~ -` (not `.` or `..`; `http://10.0.0.5/location_x`, for several sites on one server); no user, query or fragment; the host is an IPv4 address, a DNS name or an IPv6 address in brackets (`http://[fd00:10::1]`), the port 1-65535',
    example: 'http://192.168.122.1',
    chars: /[A-Za-z0-9._~:/[\]-]/,
  },
  artifactsUrl: {
    pattern: `^https?://${URL_HOST}(?::${PORT})?${URL_SEGMENTS}$`,
    maxLength: 1024,
    form: '`http://host[:port]/path` (or https, which needs an iPXE built with TLS); the path of letters, digits and `. _ ~ + = , : @ - /` with no empty, `.` or `..` segment; no user, query, fragment, `%` escapes or whitespace; an IPv6 host in brackets',
    example: 'http://192.168.122.1/artifacts/v1.4.1',
    chars: new RegExp(`[/\\[\\]${URL_PATH_CHARS}]`),
  },
  isoUrl: {
    pattern: `^(?:https?|ftp|tftp)://${URL_HOST}(?::${PORT})?${URL_SEGMENTS}$`,
    maxLength: 1024,
    form: '`http://`, `https://`, `ftp://` or `tftp://` `host[:port]/path`; the path of letters, digits and `. _ ~ + = , : @ - /` with no empty, `.` or `..` segment; no user, query, fragment, `%` escapes or whitespace; an IPv6 host in brackets',
    example: 'http://192.168.122.1/artifacts/v1.4.1/harvester-v1.4.1-amd64.iso',
    chars: new RegExp(`[/\\[\\]${URL_PATH_CHARS}]`),
  },
  kernelArg: {
    pattern: '^[A-Za-z0-9][A-Za-z0-9_.,:;=/+@%~\\[\\]-]*$',
    maxLength: 1024,
    form: 'one kernel argument: a single token that starts with a letter or digit, then letters, digits and `_ . , : ; = / + @ % ~ [ ] -` (no whitespace, quotes, `$`, `#`, `|`, `&`, `\\` or control characters, which iPXE, the shell or the kernel would interpret)',
    example: 'nomodeset',
    chars: /[A-Za-z0-9_.,:;=/+@%~[\]-]/,
  },
  kernelArgValue: {
    pattern: '^[A-Za-z0-9/][A-Za-z0-9_.,:;=/+@%~\\[\\]-]*$',
    maxLength: 1024,
    form: 'the value of one kernel argument: a single token that starts with a letter, a digit or `/`, then letters, digits and `_ . , : ; = / + @ % ~ [ ] -` (no whitespace, quotes, `$`, `#`, `|`, `&`, `\\` or control characters)',
    example: 'live:http://10.0.0.5/os/rootfs.squashfs',
    chars: /[A-Za-z0-9_.,:;=/+@%~[\]-]/,
  },
  efiFileName: {
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,59}\\.efi$',
    maxLength: 64,
    form: 'an EFI file name: letters, digits and `. _ -`, starting with a letter or digit and ending in `.efi` (no `/`), at most 64 characters',
    example: 'shimx64.efi',
    chars: /[A-Za-z0-9._-]/,
  },
  fatLabel: {
    pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,10}$',
    maxLength: 11,
    form: 'a FAT volume label: 1-11 letters, digits, `_` and `-`, not starting with `-`',
    example: 'COS_GRUB',
    chars: /[A-Za-z0-9_-]/,
  },
  volumePath: {
    pattern: '^(?:/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){1,8}$',
    maxLength: 256,
    form: 'an absolute path inside a volume: 1-8 `/`-separated names of letters, digits and `. _ -` (a name does not start with `.`)',
    example: '/EFI/BOOT/bootx64.efi',
    chars: /[A-Za-z0-9._/-]/,
  },
  bmcAddress: {
    pattern: `^(?:${HOST}|\\[(?=[0-9A-Fa-f:.]*:)[0-9A-Fa-f:.]{2,45}\\])(?::${PORT})?$`,
    maxLength: 260,
    form: 'a BMC address: an IPv4 address, a DNS name or an IPv6 address in brackets (`[fd00::21]`), optionally followed by `:port` (1-65535)',
    example: '10.0.0.121',
    chars: /[A-Za-z0-9.:[\]-]/,
  },
  registry: {
    // Where a site's tree is published (harvgen publish): a registry host and a namespace, the
    // grammar of the OCI distribution spec's repository components. It lands in pull.json (JSON)
    // and in messages only; the set is the spec's own, smaller than any file needs.
    pattern: `^${HOST}(?::${PORT})?(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*){1,8}$`,
    maxLength: 200,
    form: 'a registry and a namespace: `host[:port]/name[/name...]`, the host an IPv4 address or a DNS name, each name of lower-case letters and digits joined by `.`, `_`, `__` or `-` (no tag, no digest, no scheme)',
    example: 'registry.example.net/harvgen',
    chars: /[A-Za-z0-9._:/-]/,
  },
  redfishSystem: {
    pattern: '^/redfish/v1/Systems/[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,127}$',
    maxLength: 160,
    form: 'a Redfish ComputerSystem path: `/redfish/v1/Systems/<id>`, the id of letters, digits and `. _ ~ -` (not starting with `.`)',
    example: '/redfish/v1/Systems/System.Embedded.1',
    chars: /[A-Za-z0-9._~/-]/,
  },
} as const satisfies Record<string, ValueKind>;

/** Name of a value kind. */
export type ValueKindName = keyof typeof VALUE_KINDS;

const compiled = new Map<ValueKindName, RegExp>();

/** True when `value` is of the given kind. */
export function isValueOfKind(kind: ValueKindName, value: string): boolean {
  let re = compiled.get(kind);
  if (!re) compiled.set(kind, (re = new RegExp(VALUE_KINDS[kind].pattern)));
  return value.length <= VALUE_KINDS[kind].maxLength && re.test(value);
}

/** Why `value` is not of the given kind: the first offending character, or the overall form. */
export function explainValue(kind: ValueKindName, value: string): string {
  const k: ValueKind = VALUE_KINDS[kind];
  if (value.length === 0) return 'is empty';
  if (value.length > k.maxLength) return `is ${value.length} characters long (at most ${k.maxLength})`;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (!k.chars.test(ch)) return `contains ${describeChar(ch)} at character ${i + 1}`;
  }
  return 'does not have the required form';
}

/** A character as a reader can see it: printable ones quoted, others by name or code. */
export function describeChar(ch: string): string {
  const names: Record<string, string> = { '\n': 'a newline', '\r': 'a carriage return', '\t': 'a tab', ' ': 'a space' };
  if (names[ch]) return names[ch];
  const code = ch.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code > 0x7e) return `the non-ASCII character "${ch}" (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  return `"${ch}"`;
}
