// The one place where a value meets the syntax of a generated file. Every `<%= %>` in
// templates/ goes through one of these (test/templates.test.ts checks that, and that each
// template only uses the escapers of its own format). Validation (src/util/value-kinds.ts and
// the rules) keeps bad values out; these make sure that a value that slipped past it still
// cannot change the structure of a file: each either writes the value so the format reads it
// back as one inert value, or refuses it with UnsafeValueError, which the render stage turns
// into a RENDER_UNSAFE_VALUE diagnostic (nothing is written).
import { parseIpv4, prefixToMask } from '../util/ipv4.ts';
import { parseCidr6, parseIpv6 } from '../util/ipv6.ts';

/** A value that no escaping can make safe in the format it is meant for. */
export class UnsafeValueError extends Error {
  override readonly name = 'UnsafeValueError';
  constructor(
    readonly format: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${JSON.stringify(value)} cannot be written safely as ${format}: ${reason}`);
  }
}

// C0 controls, DEL and the C1 controls; U+2028/9 are line breaks to some readers.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function text(value: string | number): string {
  return typeof value === 'number' ? String(value) : value;
}

function refuse(format: string, value: string, reason: string): never {
  throw new UnsafeValueError(format, value, reason);
}

/** No control characters (no newline can end a line or a comment early). */
function oneLine(format: string, value: string): string {
  if (CONTROL.test(value)) refuse(format, value, 'it contains a control character (a newline would start a new line)');
  return value;
}

/** Only the characters of `allowed`, and not empty. */
function only(format: string, value: string, allowed: RegExp, what: string): string {
  if (value === '' || !allowed.test(value)) refuse(format, value, `only ${what} are allowed there`);
  return value;
}

/** A decimal integer (counts, ports, sizes). */
function int(value: number): string {
  if (!Number.isSafeInteger(value)) refuse('an integer', String(value), 'it is not a whole number');
  return String(value);
}

// iPXE (src/core/exec.c): a line is split at whitespace, with no quoting; a token that starts
// with `#` begins a comment; the tokens `||`, `&&` and `;` end a command; `${...}` in any token
// is expanded. So an argument is one token without whitespace or `$` that does none of that.
const IPXE_TERMINATORS = new Set(['||', '&&', ';']);
function ipxeWord(value: string): string {
  oneLine('an iPXE argument', value);
  if (value === '' || /[\s$]/.test(value) || value.startsWith('#') || IPXE_TERMINATORS.has(value) || /[^\x21-\x7e]/.test(value))
    refuse('an iPXE argument', value, 'iPXE would split, expand or end the command at it');
  return value;
}

/** Characters every "plain word" format (nginx, dnsmasq, systemd, sh) reads literally. */
const PLAIN = /^[A-Za-z0-9._~@+=,:/*[\]-]+$/;

/** An nginx directive argument: bare when plain, else double-quoted. `$` (a variable) is refused. */
function nginx(value: string | number): string {
  const v = oneLine('an nginx value', text(value));
  if (v.includes('$')) refuse('an nginx value', v, 'nginx expands `$` as a variable, even in quotes');
  if (PLAIN.test(v)) return v;
  return `"${v.replace(/[\\"]/g, '\\$&')}"`;
}

/** ipxeOn's pattern for each list of origins (a site's list is one array: src/derive/failover.ts, sharedOrigins). */
const originPatterns = new WeakMap<readonly string[], RegExp>();

/** Values as each generated format reads them. */
export const escapers = {
  int,

  /** One iPXE argument (a URL, a kernel argument, a name). */
  ipxe(value: string | number): string {
    return ipxeWord(text(value));
  },
  /** Free text on an iPXE `echo` line or in an iPXE comment: words checked like arguments. */
  ipxeText(value: string | number): string {
    const v = oneLine('iPXE text', text(value));
    return v
      .split(' ')
      .map((w) => (w === '' ? w : ipxeWord(w)))
      .join(' ');
  },

  /**
   * One iPXE argument (checked whole, as `ipxe`) in which each of `origins` (a URL's scheme, host
   * and port), where it is followed by `/` or ends the argument, is written `${harvgen_base}`: the
   * same argument on whichever server that setting names when the script runs (`failover:`). The
   * setting's name is the only `$` the argument can hold.
   */
  ipxeOn(value: string | number, origins: readonly string[]): string {
    const v = ipxeWord(text(value));
    if (origins.length === 0) return v;
    let pattern = originPatterns.get(origins);
    if (!pattern) {
      const alt = origins.map((o) => o.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|');
      originPatterns.set(origins, (pattern = new RegExp(`(?:${alt})(?=/|$)`, 'g')));
    }
    return v.replace(pattern, () => '${harvgen_base}');
  },

  nginx,

  /** A literal path inside a double-quoted nginx regex: plain path characters only, dots escaped. */
  nginxRegex(value: string | number): string {
    const v = text(value);
    if (!/^[A-Za-z0-9._~/-]*$/.test(v)) refuse('part of an nginx regex', v, 'only letters, digits and ._~/- are allowed there');
    return v.replace(/\./g, '\\.');
  },
  /**
   * A name pattern of a served config format (its declaration, src/derive/configs/) inside a
   * double-quoted nginx regex: regex syntax, but nothing that ends the string, starts a
   * variable or a second directive (no `"`, `$`, `;`, `\\` other than before `.`, whitespace).
   */
  nginxPattern(value: string | number): string {
    const v = text(value);
    if (!/^(?:[A-Za-z0-9_()[\]{}|?*+,:/^-]|\\\.)*$/.test(v) || v.includes('${'))
      refuse('an nginx name pattern', v, 'only regex syntax without quotes, $, ; or spaces is allowed there');
    return v;
  },
  /** An nginx alias to a directory followed by the regex capture `$1` (the only `$` harvgen writes). */
  nginxCapture(value: string | number): string {
    const v = nginx(value);
    return v.startsWith('"') ? `${v.slice(0, -1)}$1"` : `${v}$1`;
  },

  /**
   * An address nginx matches clients against (`allow`, `set_real_ip_from`): an IPv4 address or
   * CIDR block in canonical form, no host bits set (nginx would ignore them silently, widening
   * nothing but hiding a mistake). Anything else is refused: there is no quoting that makes a
   * wrong address safe.
   */
  nginxAddress(value: string | number): string {
    const v = oneLine('an nginx address', text(value));
    if (v.includes(':')) {
      // IPv6: a canonical address or the network address of a block (`allow` takes both).
      const [address = '', length] = v.split('/');
      const ok = length === undefined ? parseIpv6(address) !== undefined : parseCidr6(v).net !== undefined;
      if (!ok) refuse('an nginx address', v, 'only a canonical IPv6 address or the network address of a block is allowed there');
      return v;
    }
    const m = /^([0-9.]+)(?:\/([0-9]{1,2}))?$/.exec(v);
    const ip = m ? parseIpv4(m[1]!) : undefined;
    const prefix = m?.[2] === undefined ? 32 : Number(m[2]);
    if (ip === undefined || prefix > 32) refuse('an nginx address', v, 'only an IPv4 or IPv6 address or CIDR block is allowed there');
    if ((ip & prefixToMask(prefix)) >>> 0 !== ip) refuse('an nginx address', v, 'the block has host bits set');
    return v;
  },

  /**
   * One word of an nftables ruleset (an address, a MAC, an interface name inside its quotes):
   * plain characters only, so no value can end a string, a statement or a block.
   */
  nft(value: string | number): string {
    const v = oneLine('an nftables word', text(value));
    if (!/^[A-Za-z0-9._:/-]+$/.test(v)) refuse('an nftables word', v, 'only letters, digits and ._:/- are allowed there');
    return v;
  },

  /**
   * One word of a keepalived.conf (a name, an address, an interface, a word of a quoted script
   * line): keepalived splits on blanks, reads `"` as a quote, `{ }` as blocks and `#`/`!` as a
   * comment, so only characters that are none of these are written; anything else is refused.
   */
  keepalived(value: string | number): string {
    const v = oneLine('a keepalived word', text(value));
    if (!/^[A-Za-z0-9._:/@+=-]+$/.test(v)) refuse('a keepalived word', v, 'only letters, digits and ._:/@+=- are allowed there');
    return v;
  },

  /** One dnsmasq option value (between commas). dnsmasq has no quoting that survives its comma split. */
  dnsmasq(value: string | number): string {
    // Brackets hold IPv6 addresses (`[fd00::10]`, `tftp://[fd00::1]/...`); they split nothing.
    return only(
      'a dnsmasq value',
      oneLine('a dnsmasq value', text(value)),
      /^[A-Za-z0-9._~@+=:/*!\[\]-]+$/,
      'letters, digits and ._~@+=:/*![]-',
    );
  },

  /** Free text in a systemd unit value such as Description= (`%` is a specifier, `\` a continuation). */
  systemd(value: string | number): string {
    const v = oneLine('a systemd value', text(value));
    if (v.includes('\\')) refuse('a systemd value', v, 'a backslash would escape or continue the line');
    return v.replace(/%/g, '%%');
  },
  /** One word of a systemd ExecStart= command line (no quoting, variables or specifiers needed). */
  systemdArg(value: string | number): string {
    return only(
      'a systemd command argument',
      oneLine('a systemd command argument', text(value)),
      PLAIN,
      'letters, digits and ._~@+=,:/*[]-',
    );
  },

  /** One POSIX shell word (an operand: never starting with `-`, which a command reads as an option): bare when plain, else single-quoted. */
  sh(value: string | number): string {
    const v = oneLine('a shell word', text(value));
    if (v.startsWith('-')) refuse('a shell word', v, 'a leading `-` would be read as an option by the command');
    return /^[A-Za-z0-9_./:=@%+,-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
  },

  /** Text in a `#` comment of nginx, dnsmasq, systemd or sh files: one line, nothing else to do. */
  comment(value: string | number): string {
    return oneLine('comment text', text(value));
  },

  /** XML element text or attribute value (both quote styles escaped). */
  xml(value: string | number): string {
    return oneLine('XML text', text(value))
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;');
  },
  /**
   * A string value of the Kea JSON config: the value itself, for `JSON.stringify` to quote
   * (renderKea serializes the whole object once). Printable ASCII only: Kea's lexer reads
   * escapes of its own (`\u` only up to U+00FF) and an inventory value never needs more.
   */
  kea(value: string | number): string {
    const v = oneLine('a Kea value', text(value));
    if (/[^\x20-\x7e]/.test(v)) refuse('a Kea value', v, 'only printable ASCII is allowed there');
    return v;
  },

  /** A MAC in a Kea expression (`pkt4.mac == 0x...`): six lowercase hex pairs with colons, written as one hex literal. */
  keaMac(value: string | number): string {
    return `0x${only('a Kea MAC', text(value), /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'a MAC address aa:bb:cc:dd:ee:ff').replace(/:/g, '')}`;
  },

  /** A dhcpd.conf string: double-quoted, `\\` and `"` escaped (dhcpd's lexer reads both); printable ASCII only. */
  dhcpdString(value: string | number): string {
    const v = oneLine('a dhcpd string', text(value));
    if (/[^\x20-\x7e]/.test(v)) refuse('a dhcpd string', v, 'only printable ASCII is allowed there');
    return `"${v.replace(/[\\"]/g, '\\$&')}"`;
  },
  /** A dhcpd.conf name (a `host` declaration): a letter, then letters, digits, `_` and `-`. */
  dhcpdName(value: string | number): string {
    return only('a dhcpd name', text(value), /^[A-Za-z][A-Za-z0-9_-]*$/, 'a letter, then letters, digits, _ and -');
  },
  /** An IPv4 address in dhcpd.conf (`fixed-address`, `range`, `next-server`): a dotted quad, nothing else. */
  dhcpdAddress(value: string | number): string {
    const v = text(value);
    if (parseIpv4(v) === undefined) refuse('a dhcpd address', v, 'only an IPv4 address (a.b.c.d) is allowed there');
    return v;
  },
  /** A MAC in dhcpd.conf (`hardware ethernet`): six lowercase hex pairs with colons. */
  dhcpdMac(value: string | number): string {
    return only('a dhcpd MAC', text(value), /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'a MAC address aa:bb:cc:dd:ee:ff');
  },

  /**
   * HTML text, in an element or a double-quoted attribute (the report, src/page/): `& < > " '` as
   * character references, so no value opens a tag, an entity or ends an attribute. Control
   * characters other than tab and newline become U+FFFD (a log line may hold any byte; HTML forbids
   * them and a page must still be written), and so do the bidirectional overrides and isolates,
   * which could make one digest or name read as another.
   */
  html(value: string | number): string {
    return htmlText(text(value));
  },
  /**
   * A link between the report's own pages (`href`, `src`): a relative path of plain characters
   * with an optional `#fragment`. No scheme, no `//`, no leading `/`, no `..` past the report:
   * a page can never point outside its own tree (it must work offline, from a file).
   */
  htmlHref(value: string | number): string {
    const v = text(value);
    if (
      !/^(?:\.\.\/)*[A-Za-z0-9_][A-Za-z0-9._/-]*(?:#[A-Za-z0-9._-]+)?$|^#[A-Za-z0-9._-]+$/.test(v) ||
      /\/\/|\/\.\.?(?:\/|$|#)/.test(v.replace(/^(?:\.\.\/)+/, ''))
    )
      refuse('an HTML link', v, 'only a relative path inside the report (letters, digits, ._/- and a #fragment) is allowed there');
    return v;
  },

  /** Text inside an XML comment, which may not contain `--` or end with `-`. */
  xmlComment(value: string | number): string {
    return oneLine('XML comment text', text(value))
      .replace(/-(?=-)/g, '- ')
      .replace(/-$/, '- ');
  },
} as const;

/** The HTML escaping of a text. */
function htmlText(v: string): string {
  return v
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The escaper set handed to every template as `it.esc`. */
export type Escapers = typeof escapers;

/** Which escapers each output format may use (test/templates.test.ts enforces it per template). */
export const ESCAPERS_BY_FORMAT: Readonly<Record<string, readonly (keyof Escapers)[]>> = {
  ipxe: ['ipxe', 'ipxeOn', 'ipxeText', 'int'],
  nginx: ['nginx', 'nginxRegex', 'nginxPattern', 'nginxCapture', 'nginxAddress', 'comment', 'int'],
  dnsmasq: ['dnsmasq', 'comment', 'int'],
  systemd: ['systemd', 'systemdArg', 'comment', 'int'],
  sh: ['sh', 'comment', 'int'],
  xml: ['xml', 'xmlComment', 'int'],
  dhcpd: ['dhcpdString', 'dhcpdName', 'dhcpdAddress', 'dhcpdMac', 'comment', 'int'],
  keepalived: ['keepalived', 'comment', 'int'],
  nftables: ['nft', 'comment', 'int'],
  html: ['html', 'htmlHref', 'int'],
};

/** A host inside a socat address, where `:` and `,` are separators: an IPv4 address or a DNS name. */
export function socatHost(value: string): string {
  return only('a socat host', value, /^[A-Za-z0-9.-]+$/, 'letters, digits, dots and hyphens');
}

/** A dnsmasq `key=v1,v2,...` line, each value escaped (shared by dnsmasq.conf and the libvirt network). */
export function dnsmasqLine(key: string, values: readonly (string | number)[]): string {
  return `${key}=${values.map((v) => escapers.dnsmasq(v)).join(',')}`;
}
