// What test/secrets.test.ts and test/cli-secrets.test.ts share: the secret values and a site in a
// repository of its own.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { exampleSite } from './example.ts';
import { tempDir } from './tmp.ts';

export const TOKEN = 'Tok3n-from-the-vault.7f3a';

export const PASSWORD = 'pa55word-from-the-vault';

/** A site in `sites/<name>/` of a repository of its own (secret files must be inside it). */
export function site(cluster: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const repoDir = tempDir('secrets');
  mkdirSync(join(repoDir, '.git'));
  const dir = join(repoDir, 'sites', 's');
  mkdirSync(dir, { recursive: true });
  const doc: Record<string, Record<string, unknown>> = { ...exampleSite(), ...(extra as Record<string, Record<string, unknown>>) };
  doc.cluster = { ...doc.cluster, ...cluster };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}
