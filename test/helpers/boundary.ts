// What test/boundary.test.ts and test/cli-boundary.test.ts share: a secret outside every
// repository, the example site written anywhere, and everything a check or a tree holds.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type CompiledSite } from '../../src/index.ts';
import { exampleSite } from './example.ts';
import { tempDir } from './tmp.ts';

type Doc = Record<string, Record<string, unknown>>;

/** A line that must never be printed or published: it stands for a kubeconfig key, /etc/passwd, a vault token. */
export const SECRET_LINE = 'client-key-data: TOP-SECRET-OUTSIDE-THE-REPOSITORY';

/** A file outside every repository of the test, holding SECRET_LINE. */
export function outsideFile(name = 'secret.txt', text = `${SECRET_LINE}\n`): string {
  const dir = tempDir('outside');
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

/** Write the example site (secrets from the environment) into `dir`, changed by `edit`. */
export function writeSite(dir: string, edit: (d: Doc) => void = () => {}): string {
  mkdirSync(dir, { recursive: true });
  const doc = exampleSite();
  edit(doc);
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

/** Everything a check returns (diagnostics, code-frame sources) as one string. */
export const everything = (sites: readonly CompiledSite[], diagnostics: unknown) =>
  JSON.stringify({ sites: sites.map((s) => s.sources), diagnostics });

/** Every byte of every file below `dir`. */
export function treeText(dir: string): string {
  if (!existsSync(dir)) return '';
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'latin1'))
    .join('\n');
}
