// The boot media (one declaration per file of this folder, listed in list.ts), and a node's.
export type { Medium, MediumImage } from './types.ts';
export { MEDIA, imageOf, mediumOf } from './list.ts';
export { isoFromLocal, mediumAllow } from './node.ts';
export { mediaNamePattern, sharedImages, type SiteImage } from './images.ts';
