// The resolved, canonical form of a site: defaults applied, MACs normalized, every value
// final. Renderers see only this (frozen), never the raw input. Its parts: the nodes
// (node-types.ts), the cluster and releases (harvester-types.ts), the networks (network-types.ts)
// and the site (site-types.ts).
export type * from './node-types.ts';
export type * from './harvester-types.ts';
export type * from './network-types.ts';
export type * from './site-types.ts';
