// What one request of a site's tree is, by its path under the site's prefix. A node's files and
// events are read back by the declaration that names them (src/derive/file-kinds.ts, through
// src/derive/read-names.ts): scripts by MAC, configs by their format's owner, events and images
// by hostname; keyed names (nginx.file_key) by their shape, so no key is read. Release and OS
// files are the ones each node's kind fetches (src/render/kinds/).
import { kindOf } from '../render/kinds/index.ts';
import type { SiteModel } from '../model/index.ts';
import { LAYOUT } from '../derive/layout.ts';
import type { FileKind, FileUse } from '../derive/file-kinds.ts';
import { namesKeyed } from '../derive/file-names.ts';
import { nameReader, servedForms, type NameReader } from '../derive/read-names.ts';
import type { LogRequest } from './log.ts';
import type { StatusEvent } from './types.ts';

/** A release or OS file a node's kind fetches. */
export type BootFile = 'kernel' | 'initrd' | 'rootfs' | 'iso';

/** What one request of a site's tree is. */
export type RequestKind =
  | { kind: 'script'; mac: string; stub: boolean }
  /** A file a node fetches (a served config format's, or any kind counted as a fetch), by its owner. */
  | { kind: 'served'; file: FileKind; use: Extract<FileUse, { as: 'fetch' }>; owner: string }
  | { kind: 'event'; host: string; event: StatusEvent['event'] }
  | { kind: 'discover' }
  | { kind: 'file'; what: BootFile }
  /** An image: a node's own (`shared` false, `host` its hostname) or a medium's shared one. */
  | { kind: 'medium'; host: string; shared: boolean; ext: string };

/** How requests of one site are recognised. */
export interface Matcher {
  readonly prefix: string;
  /** `nginx.file_key`: a node's files have keyed names, and the plain script name is the stub. */
  readonly keyed: boolean;
  /** The names of the nodes' served files and events. */
  readonly names: NameReader;
  /** URL path -> kind of release or OS file. */
  readonly files: ReadonlyMap<string, BootFile>;
}

/** How the requests of `model`'s site are recognised (`kinds`: the declared ones unless given). */
export function matcher(model: SiteModel, kinds?: readonly FileKind[]): Matcher {
  const files = new Map<string, BootFile>();
  const path = (url: string) => {
    try {
      return new URL(url).pathname;
    } catch {
      return url;
    }
  };
  // The boot files each node fetches, as its kind says (src/render/kinds/).
  for (const n of model.nodes) for (const f of kindOf(n).fetches(model)) files.set(path(f.url), f.what);
  const keyed = namesKeyed(model);
  return {
    prefix: model.boot.prefix,
    keyed,
    names: nameReader({ root: `${model.boot.prefix}/`, forms: servedForms(keyed), ...(kinds ? { kinds } : {}) }),
    files,
  };
}

/** What `r` asks for, if it is a request status counts. */
export function classify(m: Matcher, r: LogRequest): RequestKind | undefined {
  const name = m.names.read(r.path);
  const use = name?.kind.served;
  if (name && use) {
    switch (use.as) {
      case 'script':
        return { kind: 'script', mac: name.owner, stub: m.keyed && !name.tagged };
      case 'fetch':
        return { kind: 'served', file: name.kind, use, owner: name.owner };
      case 'event':
        return { kind: 'event', host: name.owner, event: name.detail as StatusEvent['event'] };
      case 'medium':
        return { kind: 'medium', host: name.owner, shared: name.kind.owner === 'shared', ext: name.detail };
    }
  }
  if (r.path === `${m.prefix}/${LAYOUT.discover}`) return { kind: 'discover' };
  const f = m.files.get(r.path);
  return f ? { kind: 'file', what: f } : undefined;
}
