// The images a site serves: one per medium that some node shares (`medium_image: shared`, the
// default), holding the table of every node that shares it, and one per node with its own.
import type { ResolvedNode, SiteModel } from '../../model/index.ts';
import { LAYOUT, SHARED_MEDIUM_PATTERN } from '../layout.ts';
import { HOSTNAME_PATTERN, TAG_PATTERN } from '../name-patterns.ts';
import { MEDIA } from './list.ts';
import type { Medium, MediumImage } from './types.ts';

/** One image of the site, and the nodes whose table it carries. */
export interface SiteImage {
  readonly medium: Medium;
  readonly image: MediumImage;
  /** Its plain path (`media/shared.boot.iso`, `media/hv-1.iso`); keyed names: src/derive/file-names.ts. */
  readonly plain: string;
  /** The nodes it boots, in inventory order. */
  readonly nodes: readonly ResolvedNode[];
}

const kept = new WeakMap<readonly ResolvedNode[], readonly SiteImage[]>();

/** The site's shared images, one per medium some node shares, in the order of MEDIA (own images are the nodes'). */
export function sharedImages(model: SiteModel): readonly SiteImage[] {
  let images = kept.get(model.nodes);
  if (images === undefined) {
    images = Object.values(MEDIA).flatMap((medium): SiteImage[] => {
      const image = medium.image;
      if (!image) return [];
      const nodes = model.nodes.filter((n) => n.medium === medium.name && n.mediumImage === 'shared');
      return nodes.length === 0 ? [] : [{ medium, image, plain: LAYOUT.sharedMedium(image.ext), nodes }];
    });
    kept.set(model.nodes, images);
  }
  return images;
}

/**
 * The name of an image under `media/`, as a regular expression's source with two groups: its
 * owner (a hostname, or `shared.boot`) and its extension (one of the media's); with `keyed`, the tag
 * of a keyed name between them. nginx's location and `status` read it.
 */
export function mediaNamePattern(keyed: boolean): string {
  const exts = [...new Set(Object.values(MEDIA).flatMap((m) => (m.image ? [m.image.ext] : [])))];
  return `(${HOSTNAME_PATTERN}|${SHARED_MEDIUM_PATTERN})${keyed ? TAG_PATTERN : ''}\\.(${exts.join('|')})`;
}
