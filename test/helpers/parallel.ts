// What test/parallel.test.ts and test/cli-parallel.test.ts share: five rich sites of 10 nodes,
// their token from the environment.

import { generateRichRepo, RICH_TOKEN_ENV } from '../../bench/gen.ts';
import { tempDir } from './tmp.ts';

process.env[RICH_TOKEN_ENV] = 'parallel-test-token-0123456789';

/** Five rich sites of 10 nodes (every kind of node) (a warning each, the token from the environment, the password from a file). */
export function inventory(label: string): { root: string; dirs: string[] } {
  const root = tempDir(label);
  const dirs = generateRichRepo(root, 5, 10).map((d) => d.slice(root.length + 1));
  return { root, dirs };
}
