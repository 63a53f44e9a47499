// The second half of `npm run build`: after tsc wrote dist/ (the library, its type declarations),
// bundle the CLI over tsc's dist/cli.js, and the build's worker as the CLI starts it
// (dist/cli-worker.js; the library's own worker, dist/orchestrate/worker.js, stays tsc's, so that
// each side computes the same code identity as the thread that starts it). Node.js's ES module
// loader resolves, reads and links every module separately (about 100 for a build that finds
// everything up to date, 200 for a cold one), which cost about a fifth of a no-op build; what a
// command imports only when it runs goes into chunks (dist/chunks/). The libraries (yaml, ajv,
// eta, cac) stay in node_modules, imported as they are. Every path to harvgen's own files is
// found from the package root (src/util/package-root.ts), which the bundle's location does not
// change. dist/bundle-meta.json is esbuild's account of which sources each output holds (the
// startup test reads it); nothing loads it at run time.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';

process.chdir(join(import.meta.dirname, '..'));

const options = {
  entryPoints: { cli: 'src/cli.ts', 'cli-worker': 'src/orchestrate/worker.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  packages: 'external',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // Readable code, the same bytes on every machine (chunk names are hashes of their content).
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
  allowOverwrite: true,
  metafile: true,
  // src/util/package-root.ts `bundled`: the code identity (src/cache/code.ts) is then the bundle's files.
  define: { __HARVGEN_BUNDLED__: 'true' },
};

// One chunk for what every run of the CLI loads. esbuild puts each module into the chunk of the
// set of entry points (the two above and every module imported with import()) that reach it, so
// the CLI's own modules were spread over about 25 chunks, one per set, each a module Node.js
// resolves, reads and links apart (about 0.3 ms each, a fifth of an up-to-date build). Each module
// the CLI imports with import() is bundled as if it imported the CLI too: every module of the
// CLI is then reached by the same set and lands in one chunk. At run time that import costs
// nothing (the CLI is loaded already), and a worker thread does not import the CLI's entry.
const first = await build({ ...options, write: false });
const dynamic = new Set(
  Object.values(first.metafile.inputs).flatMap((input) =>
    input.imports.filter((i) => i.kind === 'dynamic-import').map((i) => resolve(i.path)),
  ),
);
/** The inputs reached from `entry` by static imports (and by import() too, with `dynamicToo`). */
const graph = (inputs, entry, dynamicToo) => {
  const seen = new Set();
  for (const queue = [entry]; queue.length > 0;) {
    const path = queue.pop();
    if (seen.has(path)) continue;
    seen.add(path);
    for (const i of inputs[path]?.imports ?? [])
      if (i.kind === 'import-statement' || (dynamicToo && i.kind === 'dynamic-import')) queue.push(i.path);
  }
  return seen;
};
// Not a module a worker thread may load (src/orchestrate/worker.ts and all it imports, now or
// later): the worker would load every module of the CLI. Nor a module of the CLI's own graph,
// which would import the CLI in a cycle.
for (const path of graph(first.metafile.inputs, 'src/orchestrate/worker.ts', true)) dynamic.delete(resolve(path));
for (const path of graph(first.metafile.inputs, 'src/cli.ts', false)) dynamic.delete(resolve(path));
const cli = resolve('src/cli.ts');
const result = await build({
  ...options,
  plugins: [
    {
      name: 'one-cli-chunk',
      setup(b) {
        b.onLoad({ filter: /\.ts$/ }, (args) =>
          dynamic.has(args.path)
            ? {
                contents: `${readFileSync(args.path, 'utf8')}\nimport ${JSON.stringify(cli)};\n`,
                loader: 'ts',
                resolveDir: dirname(args.path),
              }
            : undefined,
        );
      },
    },
  ],
});

// What the worker loads holds no module of the CLI's entry (checked on the outputs, whatever
// changes in the sources).
const workerOutputs = graph(result.metafile.outputs, 'dist/cli-worker.js', true);
const leaked = [...workerOutputs].filter((o) => result.metafile.outputs[o]?.inputs['src/cli.ts']);
if (leaked.length > 0) throw new Error(`bundle: the worker would load the CLI (${leaked.join(', ')})`);

// Chunks of an earlier build that this one does not write go, after it (a process started
// before still finds the chunks it may import later, as long as they did not change).
const written = new Set(Object.keys(result.metafile.outputs).map((p) => p.replace(/^dist\//, '')));
for (const name of readdirSync('dist/chunks')) if (!written.has(`chunks/${name}`)) rmSync(join('dist/chunks', name));
writeFileSync('dist/bundle-meta.json', `${JSON.stringify(result.metafile.outputs, null, 1)}\n`);
