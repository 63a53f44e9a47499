/**
 * harvgen's OCI library: references (`ref.ts`), credentials and TLS trust as the container tools
 * store them (`auth.ts`), a distribution-API client (`client.ts`: its operations; `challenge.ts`,
 * answering a 401; `transport.ts`, sockets, redirects and time limits; `body.ts`, answers read
 * bounded and blobs checked as they stream; `errors.ts`, `options.ts`), OCI image layouts and their
 * deterministic tar archives (`layout.ts`), and artifact graphs copied between stores
 * (`graph.ts`). No dependency beyond Node.
 */
export {
  DIGEST_RE,
  digestHex,
  digestProblem,
  formatRef,
  isDigest,
  MAX_REPOSITORY_LENGTH,
  OciRefError,
  parseRef,
  REPO_COMPONENT_RE,
  registryProblem,
  repositoryProblem,
  sha256Digest,
  TAG_RE,
  tagProblem,
  type ImageRef,
  type ParseRefOptions,
} from './ref.ts';
export {
  AuthError,
  authFilePaths,
  authKeys,
  CERTS_ROOTS,
  findCredentials,
  trustFor,
  type CredentialLookup,
  type CredentialOptions,
  type Credentials,
  type Trust,
  type TrustOptions,
} from './auth.ts';
export {
  DEFAULT_ACCEPT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_MANIFEST_BYTES,
  parseChallenge,
  Registry,
  RegistryError,
  type BlobBody,
  type FetchedManifest,
  type RegistryCounters,
  type RegistryErrorKind,
  type RegistryOptions,
} from './client.ts';
export {
  checkDescriptor,
  INDEX_MEDIA_TYPE,
  LayoutError,
  MANIFEST_MEDIA_TYPE,
  OciLayout,
  readArchive,
  REF_NAME,
  writeArchive,
  type Descriptor,
  type ReadArchiveOptions,
} from './layout.ts';
export {
  childrenOf,
  copyArtifact,
  GraphError,
  layoutStore,
  manifestDescriptor,
  MANIFEST_TYPES,
  pool,
  registryStore,
  resolveRoot,
  walk,
  type CopyOptions,
  type CopyResult,
  type GraphLimits,
  type GraphNode,
  type Store,
} from './graph.ts';
