// The example site's inventory as a JS object, for tests that write variants of it elsewhere.
// Its secrets live in files next to site.yaml (sites/location_x/secrets/); a copy in another
// directory gets them from the environment instead (set here), so it builds without warnings.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

const repo = resolve(import.meta.dirname, '../..');
process.env.HARVGEN_TEST_TOKEN = 'SecretToken.123';
process.env.HARVGEN_TEST_PASSWORD = 'SecretPassword.123';

/** sites/<name>/site.yaml parsed, with the secrets taken from HARVGEN_TEST_TOKEN/PASSWORD. */
export function exampleSite(name = 'location_x'): Record<string, Record<string, unknown>> {
  const doc = parse(readFileSync(join(repo, 'sites', name, 'site.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  doc.cluster = {
    ...doc.cluster,
    token: { env: 'HARVGEN_TEST_TOKEN' },
    ...(doc.cluster?.password !== undefined && typeof doc.cluster.password === 'object'
      ? { password: { env: 'HARVGEN_TEST_PASSWORD' } }
      : {}),
  };
  return doc;
}
