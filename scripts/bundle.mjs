// The second half of `npm run build`: after tsc wrote dist/ (the library, its type declarations),
// bundle the CLI (dist/cli.js) and the build's worker (dist/orchestrate/worker.js) each into one
// file, over tsc's output of the same name. Node.js's ES module loader resolves, reads and links
// every module separately (about 100 for a build that finds everything up to date, 200 for a
// cold one), which cost about a fifth of a no-op build; one file is compiled at once. The
// libraries (yaml, ajv, eta, cac) stay in node_modules, imported as they are. Every path to
// harvgen's own files is found from the package root (src/util/package-root.ts), which the
// bundle's location does not change.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// The chunks of the last build go: their names carry their content's hash.
rmSync('dist/chunks', { recursive: true, force: true });

await build({
  entryPoints: { cli: 'src/cli.ts', 'orchestrate/worker': 'src/orchestrate/worker.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  packages: 'external',
  // What a command imports only when it runs (src/cli/commands/) stays in a chunk of its own.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // Readable (a stack trace with --debug names harvgen's functions), and the same bytes on every machine.
  minify: false,
  keepNames: false,
  legalComments: 'none',
  logLevel: 'warning',
  allowOverwrite: true,
  // src/util/package-root.ts `bundled`: the code identity (src/cache/code.ts) is then the bundle's files.
  define: { __HARVGEN_BUNDLED__: 'true' },
});
