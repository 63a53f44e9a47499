/** An artifact refused: a digest, signature, site, key, size or serial that does not check (PULL_REFUSED). */
export class PullRefused extends Error {}
