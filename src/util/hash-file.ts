// A file's digests, read once as a stream (release files are gigabytes).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The hex digest of `path` for each algorithm asked, and its size. */
export async function hashFile<A extends 'sha256' | 'sha512'>(
  path: string,
  ...algorithms: A[]
): Promise<Record<A, string> & { size: number }> {
  const hashes = algorithms.map((a) => [a, createHash(a)] as const);
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    for (const [, h] of hashes) h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { ...(Object.fromEntries(hashes.map(([a, h]) => [a, h.digest('hex')])) as Record<A, string>), size };
}
