// Loading the JSON Schema validators compiled ahead of time (scripts/gen-validators.ts writes them
// beside their users: src/validate/compiled/ for the inventory's schemas, src/harvester/compiled/
// for the installer config's). Each folder's generated index.ts loads its modules through this on
// first use: a schema is never compiled at run time, and a run loads only the validators it calls
// (each module is 100-400 kB of code to parse). The modules are CommonJS so that loading one is a
// synchronous require; the validating functions are synchronous.
import { createRequire } from 'node:module';
import type { ErrorObject } from 'ajv';
import { join } from 'node:path';
import { codeDir, fromSource, packageFile } from './package-root.ts';

/** What an ajv standalone validator is to its callers: a test of one value, with the errors of the last failed test. */
export type CompiledValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** The loader of the validator modules of `dir` (under src/ or dist/, e.g. `validate/compiled`), each loaded once. */
export function validatorLoader(dir: string): (module: string) => CompiledValidator {
  // Resolved from the folder's own place in dist/ (or src/): the CLI's bundle (dist/cli.js) is elsewhere.
  const require = createRequire(join(codeDir(), dir, 'index.js'));
  const loaded = new Map<string, CompiledValidator>();
  // From the sources (the tests, through tsx) the modules are .cts files, which plain require cannot
  // load: tsx's own require compiles them, whichever of its hooks the thread registered (a worker
  // thread of src/orchestrate/pool.ts registers only its ES module ones).
  return (module) => {
    let validate = loaded.get(module);
    if (!validate) {
      const exports = fromSource
        ? (require('tsx/cjs/api') as { require: (id: string, from: string) => unknown }).require(
            `./${module}.cts`,
            packageFile('src', dir, 'index.ts'),
          )
        : require(`./${module}.cjs`);
      validate = (exports as { validate: CompiledValidator }).validate;
      loaded.set(module, validate);
    }
    return validate;
  };
}
