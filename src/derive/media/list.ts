// The list of the boot media (one declaration per file of this folder), and a node's.
import type { ResolvedNode } from '../../model/index.ts';
import { ISO } from './iso.ts';
import { NETWORK } from './network.ts';
import type { Medium } from './types.ts';
import type { MediumName } from '../../types/kinds.ts';
import { USB } from './usb.ts';

/** Every medium by its name (the inventory's `medium:` enum is these keys: scripts/site-schema.ts). */
export const MEDIA: Readonly<Record<MediumName, Medium>> = { network: NETWORK, iso: ISO, usb: USB };

/** The medium a node boots from. */
export function mediumOf(node: Pick<ResolvedNode, 'medium'>): Medium {
  return MEDIA[node.medium];
}

/** The image a node's medium carries, if any. */
export function imageOf(node: Pick<ResolvedNode, 'medium'>): Medium['image'] {
  return MEDIA[node.medium].image;
}
