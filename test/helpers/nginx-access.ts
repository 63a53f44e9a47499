// Reads the access rules out of a generated nginx file (harvgen.conf or locations.conf): each
// `location` with its `allow` addresses, whether it ends in `deny all`, and its realip lines.
// Shared by the unit tests (test/access.test.ts) and the real-nginx ones (test/real/access.test.ts).

/** One `location` block of a generated nginx file. */
export interface NginxLocation {
  /** `=` for an exact location, `~` for a regex. */
  readonly kind: string;
  readonly match: string;
  readonly allow: readonly string[];
  readonly denyAll: boolean;
  readonly realIpFrom: readonly string[];
  readonly realIpHeader?: string;
}

/**
 * Every location of the file, in order. Generated blocks open with `location <kind> <match> {` at
 * four spaces and close with `}` at four spaces (their `types { }` stays on one line).
 */
export function parseLocations(conf: string): NginxLocation[] {
  const out: NginxLocation[] = [];
  let current: { kind: string; match: string; lines: string[] } | undefined;
  for (const line of conf.split('\n')) {
    const open = /^ {4}location (=|~) (\S+) \{$/.exec(line) ?? /^ {4}location (=|~) ("[^"]*") \{$/.exec(line);
    if (open) {
      current = { kind: open[1]!, match: open[2]!, lines: [] };
      continue;
    }
    if (current && line === '    }') {
      const words = current.lines.map((l) => l.trim().replace(/;$/, '').split(/\s+/));
      const header = words.find((w) => w[0] === 'real_ip_header')?.[1];
      out.push({
        kind: current.kind,
        match: current.match,
        allow: words.filter((w) => w[0] === 'allow').map((w) => w[1]!),
        denyAll: words.some((w) => w[0] === 'deny' && w[1] === 'all'),
        realIpFrom: words.filter((w) => w[0] === 'set_real_ip_from').map((w) => w[1]!),
        ...(header !== undefined ? { realIpHeader: header } : {}),
      });
      current = undefined;
      continue;
    }
    current?.lines.push(line);
  }
  return out;
}
