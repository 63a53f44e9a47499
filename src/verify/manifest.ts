// The deploy tree verify compares a server with: `<out>/<site>/manifest.json`, read as untrusted
// data (anyone who can write the tree could have edited it). It must be harvgen's, of the deploy
// tree (`secrets: filled`: the committed tree's markers install nothing, so no server should
// serve it), and every path and URL in it must be plain.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSafeRelativePath } from '../render/artifact.ts';
import { LAYOUT } from '../derive/layout.ts';
import type { FileKind } from '../derive/file-kinds.ts';
import { nameReader, type NameForms } from '../derive/read-names.ts';

/** The parts of manifest.json verify reads. */
export interface DeployManifest {
  readonly site: string;
  readonly secrets: 'filled' | 'markers';
  readonly harvester_version?: string;
  readonly boot: {
    readonly server: string;
    readonly vlan_servers?: readonly string[];
    /** `failover:`: each boot server's own URL (checked by default beside the shared one). */
    readonly failover_servers?: readonly string[];
    /** Addresses nginx serves every protected file to besides the file's own `allow` (the boot server itself, `nginx.verify_from`). */
    readonly verifiers?: readonly string[];
  };
  readonly artifacts?: { kernel: string; initrd: string; rootfs: string; iso: string; shim?: string };
  /** A planned upgrade: the target's ISO and the SHA-512 the inventory pins (kept only in this exact shape). */
  readonly upgrade?: { version: string; iso: string; iso_sha512: string };
  readonly nodes: readonly unknown[];
  /**
   * With keyed names (`boot.file_names: keyed`): the plain paths of the node data they replace
   * (a config, a seed's user-data), which must not answer.
   */
  readonly plainData?: readonly string[];
  /**
   * Every file of the tree; `url` for the served ones; `allow`: the addresses and networks
   * nginx serves the file to (absent: everyone).
   */
  readonly files: readonly { path: string; sha256: string; size: number; url?: string; allow?: readonly string[] }[];
}

/** The manifest, or why there is none to compare with (`committed`: the tree is the committed one). */
export type ReadManifest =
  { readonly manifest: DeployManifest; readonly dropped: readonly string[] } | { readonly problem: string; readonly committed?: true };

/** A node's keyed data: the files it fetches (a served config's), in their keyed form. */
const keyedData: NameForms = (kind) => (kind.keyed && kind.served?.as === 'fetch' ? [true] : []);

const KEYED_DATA = nameReader({ root: '', forms: keyedData });

/**
 * The plain paths of the nodes' keyed data: each file a node fetches (a served config,
 * src/derive/configs/) whose name carries a keyed tag, without it (for a format served as a
 * directory, its first file only), read back by the declaration of the names
 * (src/derive/file-kinds.ts; `kinds`: the declared ones unless given).
 */
export function plainDataOf(files: readonly { readonly path: string }[], kinds?: readonly FileKind[]): string[] {
  const reader = kinds ? nameReader({ root: '', forms: keyedData, kinds }) : KEYED_DATA;
  const out: string[] = [];
  for (const f of files) {
    const name = reader.read(f.path);
    if (name === undefined) continue;
    const first = name.kind.format?.entries?.[0];
    if (first !== undefined && !f.path.endsWith(`/${first}`)) continue;
    out.push(`${name.kind.path(name.owner, name.detail)}${first ?? ''}`);
  }
  return out;
}

/**
 * Read and check `<siteOut>/manifest.json` (or `text`, its bytes as already read: the ones whose
 * signature was checked). Entries whose path or URL is not plain are dropped (and named).
 */
export function readDeployManifest(siteOut: string, text?: string): ReadManifest {
  const file = join(siteOut, LAYOUT.manifest);
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { problem: code === 'ENOENT' ? `there is no ${file}` : `${file} cannot be read: ${(e as Error).message}` };
  }
  const m = raw as Record<string, unknown>;
  if (typeof m !== 'object' || m === null || m.generator !== 'harvgen' || typeof m.site !== 'string' || !Array.isArray(m.files))
    return { problem: `${file} is not a manifest.json harvgen wrote` };
  const boot = m.boot as Record<string, unknown> | undefined;
  if (typeof boot?.server !== 'string' || !/^https?:\/\//.test(boot.server)) return { problem: `${file} has no boot.server URL` };
  if (m.secrets !== 'filled')
    return {
      problem: `${file} is the committed tree (secrets: ${String(m.secrets)}), whose configs hold markers in place of the secrets; a boot server serves the deploy tree`,
      committed: true,
    };
  const server = boot.server;
  const { files, dropped } = plainFiles(m.files as unknown[], server);
  const nodes = Array.isArray(m.nodes) ? (m.nodes as unknown[]) : [];
  const upgrade = upgradeOf(m.upgrade);
  // The VLAN addresses, kept only as boot.server with another host (a request is made to each).
  const vlanServers = sameServers(boot.vlan_servers, server);
  // With failover: the servers' own addresses, kept the same way (a request is made to each).
  const failoverServers = sameServers(boot.failover_servers, server).slice(0, 2);
  const verifiers = verifiersOf(boot.verifiers);
  const { upgrade: _ignored, ...rest } = m as unknown as DeployManifest;
  const manifest = {
    ...rest,
    boot: {
      server,
      ...(vlanServers.length > 0 ? { vlan_servers: vlanServers } : {}),
      ...(failoverServers.length > 0 ? { failover_servers: failoverServers } : {}),
      ...(verifiers.length > 0 ? { verifiers } : {}),
    },
    ...(upgrade ? { upgrade } : {}),
    files,
    nodes,
    plainData: boot.file_names === 'keyed' ? plainDataOf(files) : [],
  };
  return { manifest, dropped };
}

/** The file entries whose path, digest, size, URL (the path under `server`) and `allow` are plain; the others' names. */
function plainFiles(list: readonly unknown[], server: string): { files: DeployManifest['files'][number][]; dropped: string[] } {
  const dropped: string[] = [];
  const files: DeployManifest['files'][number][] = [];
  for (const f of list) {
    const e = f as Record<string, unknown>;
    const plain =
      typeof e === 'object' &&
      e !== null &&
      typeof e.path === 'string' &&
      isSafeRelativePath(e.path) &&
      typeof e.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(e.sha256) &&
      typeof e.size === 'number' &&
      (e.url === undefined || (typeof e.url === 'string' && e.url === `${server}/${e.path}`)) &&
      (e.allow === undefined || (Array.isArray(e.allow) && e.allow.every((a) => typeof a === 'string')));
    if (!plain) {
      dropped.push(typeof e?.path === 'string' ? e.path : JSON.stringify(f).slice(0, 80));
      continue;
    }
    files.push(e as unknown as DeployManifest['files'][number]);
  }
  return { files, dropped };
}

/** The upgrade's pin, in the exact shape harvgen writes it, or nothing (a request is made from it). */
function upgradeOf(value: unknown): DeployManifest['upgrade'] {
  const u = value as Record<string, unknown> | undefined;
  return typeof u === 'object' &&
    u !== null &&
    typeof u.version === 'string' &&
    /^v[0-9]+\.[0-9]+\.[0-9]+(-rc[0-9]+)?$/.test(u.version) &&
    typeof u.iso === 'string' &&
    /^https?:\/\/[^\s]+$/.test(u.iso) &&
    typeof u.iso_sha512 === 'string' &&
    /^[a-f0-9]{128}$/.test(u.iso_sha512)
    ? { version: u.version, iso: u.iso, iso_sha512: u.iso_sha512 }
    : undefined;
}

/** The URLs of a list that are `server` with another host (scheme, port and path the same, no user or query); at most 64. */
function sameServers(list: unknown, server: string): string[] {
  const base = new URL(server);
  return (Array.isArray(list) ? (list as unknown[]) : [])
    .filter((v): v is string => typeof v === 'string' && v.length <= 300 && /^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(v))
    .filter((v) => {
      const u = new URL(v);
      return (
        u.protocol === base.protocol &&
        u.port === base.port &&
        u.pathname.replace(/\/+$/, '') === base.pathname.replace(/\/+$/, '') &&
        u.username === '' &&
        u.search === ''
      );
    })
    .slice(0, 64);
}

/** The addresses every protected file is also served to: plain addresses and CIDR blocks only; at most 128. */
function verifiersOf(list: unknown): string[] {
  return (Array.isArray(list) ? (list as unknown[]) : [])
    .filter((v): v is string => typeof v === 'string' && v.length <= 64 && /^[0-9a-fA-F.:]+(\/[0-9]{1,3})?$/.test(v))
    .slice(0, 128);
}
