// Which tree a build makes. Decided once per run (pipeline, cache, emit's checks) and read by
// load (which secrets to read), render and sign: it lives here, below all of them.

/**
 * Which tree a build makes: `markers` (the committed tree: secret references are not read, every
 * secret is written as its marker) or `filled` (the deploy tree: secrets read and written).
 */
export type SecretMode = 'markers' | 'filled';
