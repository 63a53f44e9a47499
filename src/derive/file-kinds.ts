// The names of a node's files, declared once and read both ways. Each kind says its directory,
// whose it is (a hostname, a boot MAC, or the nodes that share a medium's image) and the shape of
// its name; from that one declaration come the plain path of an owner's file (LAYOUT, and the
// keyed names of src/derive/file-names.ts) and the reading of a tree path or a request path back
// to its kind and owner (src/derive/read-names.ts: status's tally, publish's node parts, verify's
// plain names). A config format (src/derive/configs/) is a kind through its own declaration
// (`plain`, and `pattern` to read it back). ARCHITECTURE.md "File names".
import { macToHyphen } from '../util/mac.ts';
import { CONFIG_FORMATS, type ConfigFormat } from './configs/index.ts';
import { MEDIA } from './media/list.ts';
import { escapeRe, HOSTNAME_PATTERN, MAC_HYPHEN_PATTERN, SITE_NAME_PATTERN, TAG_PATTERN } from './name-patterns.ts';

/** The name of a medium's shared image (`media/shared.boot.<ext>`): not a hostname, which has no dot. */
export const SHARED_MEDIUM = 'shared.boot';
/** SHARED_MEDIUM as a regular expression (nginx, status). */
export const SHARED_MEDIUM_PATTERN = 'shared\\.boot';

/** The installer's events (harvester-installer pkg/console/webhooks.go, the same in v1.2 to v1.8 and master). */
export const INSTALL_EVENTS = ['STARTED', 'SUCCEEDED', 'FAILED'] as const;

/** What the events path names in place of a hostname for machines the site does not know (no hostname has a `_`). */
export const UNKNOWN_EVENT_HOST = '_unknown';

/** How `status` counts a request of a kind nginx serves. */
export type FileUse =
  /** A boot MAC's script (`status`: the node's `script` fetch; a keyed site's plain name is the stub). */
  | { readonly as: 'script' }
  /** A file the node fetches: counted as `fetch`, and a fetch of it may start an install. */
  | { readonly as: 'fetch'; readonly fetch: 'config' | 'seed'; readonly startsInstall: boolean }
  /** An install event the node reports (`boot.report`; `detail` is the event). */
  | { readonly as: 'event' }
  /** An image the node's BMC downloads (`detail` is its extension). */
  | { readonly as: 'medium' };

/** One kind of a node's file (or of a request path about a node: its events). */
export interface FileKind {
  /** Its name (`script`, a config format's name, `medium`, ...). */
  readonly name: string;
  /** The directory of the tree its files are in (below the site's prefix for a request). */
  readonly dir: string;
  /** Whose it is: a node by hostname, a node by one boot MAC, or every node that shares an image. */
  readonly owner: 'host' | 'mac' | 'shared';
  /**
   * The path of one owner's file (`owner`: a hostname, a MAC `aa:bb:...`; ignored for `shared`),
   * `detail` what else the name holds (an image's extension, an event, the site of a
   * reservation; '' for none), with `tag` the keyed name's (nginx.file_key).
   */
  readonly path: (owner: string, detail: string, tag?: string) => string;
  /**
   * Its name below `dir`, as a regular expression's source without anchors, plain or keyed (the
   * tag nginx.file_key puts after the owner): the owner is group `owner` (or group 1 when none is
   * named; a MAC with hyphens), what else it holds group `detail`.
   */
  readonly pattern: (keyed: boolean) => string;
  /** Under nginx.file_key its name carries the tag (`keyedTag`). */
  readonly keyed: boolean;
  /** A keyed site serves its plain name too (the script's stub, which boots nothing). */
  readonly stub: boolean;
  /** A file of the tree (false: a request path only, an event). */
  readonly file: boolean;
  /** Its detail is the site's name (a file that sits beside other sites' on a shared host). */
  readonly detailIsSite?: true;
  /** How `status` counts a request of it; absent: nginx serves no such name. */
  readonly served?: FileUse;
  /** The config format it is (the node's data, whose plain name verify expects refused under a key). */
  readonly format?: ConfigFormat;
}

/** One part of a name: text as written, the owner, the keyed tag, or the detail (its pattern). */
export type NamePart =
  string | { readonly part: 'owner' } | { readonly part: 'tag' } | { readonly part: 'detail'; readonly pattern: string };

/** The owner in a name (a MAC with hyphens). */
export const OWNER: NamePart = { part: 'owner' };
/** Where a keyed name carries its tag (after the owner, as `withTag` puts it). */
export const TAG: NamePart = { part: 'tag' };
/** What else a name holds, by its pattern. */
export const detail = (pattern: string): NamePart => ({ part: 'detail', pattern });

/** What a name is made of: `shapedKind` writes and reads it from these. */
export interface NameShape {
  readonly name: string;
  readonly dir: string;
  readonly owner: FileKind['owner'];
  /** The owner's pattern, when it is not the owner's kind's (an event's `_unknown`). */
  readonly ownerPattern?: string;
  readonly parts: readonly NamePart[];
  readonly keyed?: boolean;
  readonly stub?: boolean;
  readonly file?: boolean;
  readonly detailIsSite?: true;
  readonly served?: FileUse;
}

const OWNER_PATTERNS: Readonly<Record<FileKind['owner'], string>> = {
  host: HOSTNAME_PATTERN,
  mac: MAC_HYPHEN_PATTERN,
  shared: SHARED_MEDIUM_PATTERN,
};

/** A kind whose path and pattern are both made from one list of parts. */
export function shapedKind(s: NameShape): FileKind {
  const ownerText = (owner: string) => (s.owner === 'mac' ? macToHyphen(owner) : s.owner === 'shared' ? SHARED_MEDIUM : owner);
  const ownerPattern = s.ownerPattern ?? OWNER_PATTERNS[s.owner];
  const text = (p: NamePart, owner: string, d: string, tag: string | undefined): string => {
    if (typeof p === 'string') return p;
    if (p.part === 'owner') return ownerText(owner);
    if (p.part === 'detail') return d;
    return tag === undefined ? '' : `-${tag}`;
  };
  const pattern = (p: NamePart, keyed: boolean): string => {
    if (typeof p === 'string') return escapeRe(p);
    if (p.part === 'owner') return `(?<owner>${ownerPattern})`;
    if (p.part === 'detail') return `(?<detail>${p.pattern})`;
    return keyed ? TAG_PATTERN : '';
  };
  return {
    name: s.name,
    dir: s.dir,
    owner: s.owner,
    path: (owner, d, tag) => `${s.dir}/${s.parts.map((p) => text(p, owner, d, tag)).join('')}`,
    pattern: (keyed) => s.parts.map((p) => pattern(p, keyed)).join(''),
    keyed: s.keyed ?? false,
    stub: s.stub ?? false,
    file: s.file ?? true,
    ...(s.detailIsSite ? { detailIsSite: s.detailIsSite } : {}),
    ...(s.served ? { served: s.served } : {}),
  };
}

/** `dir/name.ext` keyed: `dir/name-<tag>.ext` (a directory, `dir/name/`: `dir/name-<tag>/`). */
export function withTag(plain: string, tag: string | undefined): string {
  if (tag === undefined) return plain;
  if (plain.endsWith('/')) return `${plain.slice(0, -1)}-${tag}/`;
  const dot = plain.lastIndexOf('.');
  return `${plain.slice(0, dot)}-${tag}${plain.slice(dot)}`;
}

/** A config format as a kind: its declaration's plain path and pattern (group 1 its owner). */
export function formatKind(format: ConfigFormat): FileKind {
  return {
    name: format.name,
    dir: format.dir,
    owner: format.owner,
    path: (owner, _detail, tag) => withTag(format.plain(owner), tag),
    pattern: (keyed) => format.pattern(keyed).status,
    keyed: format.protection.keyed,
    stub: false,
    file: true,
    served: { as: 'fetch', fetch: format.fetch, startsInstall: format.startsInstall },
    format,
  };
}

/** Every image extension of the media (`iso`, `img`). */
const IMAGE_EXTS = [...new Set(Object.values(MEDIA).flatMap((m) => (m.image ? [m.image.ext] : [])))];

/** An image's name: its owner, the keyed tag, and one of the media's extensions. */
const IMAGE_PARTS = [OWNER, TAG, '.', detail(IMAGE_EXTS.join('|'))] as const;

/** The script of one boot MAC: `ipxe/52-54-00-aa-bb-cc.ipxe`. */
export const SCRIPT_FILE = shapedKind({
  name: 'script',
  dir: 'ipxe',
  owner: 'mac',
  parts: [OWNER, TAG, '.ipxe'],
  keyed: true,
  stub: true,
  served: { as: 'script' },
});

/** The image of a node's own (`medium_image: own`): `media/hv-1.iso`. */
export const MEDIUM_FILE = shapedKind({
  name: 'medium',
  dir: 'media',
  owner: 'host',
  parts: IMAGE_PARTS,
  keyed: true,
  served: { as: 'medium' },
});

/** The site's shared image of a medium: `media/shared.boot.iso`. */
export const SHARED_MEDIUM_FILE = shapedKind({
  name: 'shared-medium',
  dir: 'media',
  owner: 'shared',
  parts: IMAGE_PARTS,
  keyed: true,
  served: { as: 'medium' },
});

/** Where a node reports an install event: `harvgen-events/hv-1/STARTED` (`_unknown` for a machine of no node); no file. */
export const EVENT_PATH = shapedKind({
  name: 'event',
  dir: 'harvgen-events',
  owner: 'host',
  ownerPattern: `[a-z0-9-]+|${UNKNOWN_EVENT_HOST}`,
  parts: [OWNER, '/', detail(INSTALL_EVENTS.join('|'))],
  file: false,
  served: { as: 'event' },
});

/** A node's libvirt domain (`outputs.lab`): `libvirt/hv-1.xml`. */
export const LAB_DOMAIN_FILE = shapedKind({ name: 'lab-domain', dir: 'libvirt', owner: 'host', parts: [OWNER, '.xml'] });

/** A node's BMC script (`bmc:`): `bmc/hv-1.sh`. */
export const BMC_SCRIPT_FILE = shapedKind({ name: 'bmc-script', dir: 'bmc', owner: 'host', parts: [OWNER, '.sh'] });

/** A node's BareMetalHost (`metal3.export`): `metal3/hv-1.yaml`. */
export const METAL3_HOST_FILE = shapedKind({ name: 'metal3-host', dir: 'metal3', owner: 'host', parts: [OWNER, '.yaml'] });

/** A node's reservation for `dhcp-hostsdir`, named `<site>.<hostname>` (unique on a host shared by sites; `detail` the site). */
export const DNSMASQ_HOST_FILE = shapedKind({
  name: 'dnsmasq-host',
  dir: 'dnsmasq/hosts',
  owner: 'host',
  parts: [detail(SITE_NAME_PATTERN), '.', OWNER],
  detailIsSite: true,
});

/** Every kind of a node's file, the config formats' among them. */
export const FILE_KINDS: readonly FileKind[] = [
  SCRIPT_FILE,
  ...CONFIG_FORMATS.map(formatKind),
  MEDIUM_FILE,
  SHARED_MEDIUM_FILE,
  EVENT_PATH,
  LAB_DOMAIN_FILE,
  BMC_SCRIPT_FILE,
  METAL3_HOST_FILE,
  DNSMASQ_HOST_FILE,
];
