// A node file's name read back to its kind and owner, from the same declaration that writes it
// (src/derive/file-kinds.ts): `status` reads request paths (under the site's prefix), publish and
// verify read the paths of a tree. No reader writes a pattern of its own.
import { FILE_KINDS, type FileKind } from './file-kinds.ts';
import { escapeRe } from './name-patterns.ts';

/** What a name said. */
export interface NameRead {
  readonly kind: FileKind;
  /** A hostname, a MAC (`aa:bb:...`), or `shared.boot` for a shared image. */
  readonly owner: string;
  /** What else the name holds (an image's extension, an event), '' for none. */
  readonly detail: string;
  /** It carries a keyed tag (nginx.file_key). */
  readonly tagged: boolean;
}

/** Reads names of the kinds it was made for. */
export interface NameReader {
  read(path: string): NameRead | undefined;
  /** Its regular expressions' sources, in the order tried (what it recognises, for a fingerprint). */
  readonly sources: readonly string[];
}

/** Which forms of a kind's name to read: keyed (`true`), plain (`false`); none: not that kind. */
export type NameForms = (kind: FileKind) => readonly boolean[];

/** What a reader reads. */
export interface ReaderOptions {
  /** What comes before a kind's directory: `''` for a tree's paths, `<prefix>/` for request paths. */
  readonly root: string;
  readonly forms: NameForms;
  /** The kinds: the declared ones unless given. */
  readonly kinds?: readonly FileKind[];
  /** The site whose names these are: a name of a kind that holds the site's name (`detailIsSite`) must hold this one. */
  readonly site?: string;
}

/** A reader of the names of `o.kinds` below `o.root`, in the forms `o.forms` says. */
export function nameReader(o: ReaderOptions): NameReader {
  const entries = (o.kinds ?? FILE_KINDS).flatMap((kind) =>
    o.forms(kind).map((keyed) => ({
      kind,
      keyed,
      dir: `${o.root}${kind.dir}/`,
      re: new RegExp(`^${escapeRe(`${o.root}${kind.dir}`)}/${kind.pattern(keyed)}$`),
    })),
  );
  return {
    sources: entries.map((e) => e.re.source),
    read(path) {
      for (const e of entries) {
        if (!path.startsWith(e.dir)) continue;
        const x = e.re.exec(path);
        if (!x || (e.kind.detailIsSite && o.site !== undefined && x.groups?.detail !== o.site)) continue;
        const owner = x.groups?.owner ?? x[1]!;
        return {
          kind: e.kind,
          owner: e.kind.owner === 'mac' ? owner.replaceAll('-', ':') : owner,
          detail: x.groups?.detail ?? '',
          tagged: e.keyed,
        };
      }
      return undefined;
    },
  };
}

/**
 * The forms of the names a site serves: a keyed site's names carry the tag, a plain one's do not;
 * a kind with a stub (the script) is read either way. Kinds nginx does not serve are not read.
 */
export function servedForms(keyedSite: boolean): NameForms {
  return (kind) => (kind.served === undefined ? [] : kind.stub ? [true, false] : [kind.keyed && keyedSite]);
}

/** Every form of the files of a tree (a keyed kind either way: a tree may be keyed or not); request paths alone are not read. */
export const treeForms: NameForms = (kind) => (!kind.file ? [] : kind.keyed ? [true, false] : [false]);
