// Per-node parts of the site-wide files, kept across renders of one site (watch's RenderCache,
// which empties `fragments` when the rest of the site's model changes): src/model/memo.ts.
export { computeAlways, memoEach, nodeMemo, NodeParts, type NodeMemo } from '../model/memo.ts';
