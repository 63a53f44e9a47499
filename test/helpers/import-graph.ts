// The import graph of src/ as its text says it, for the shape check (test/shape.test.ts): every
// relative `import ... from`, `export ... from`, side-effect `import '...'` and `import('...')`
// of each .ts and .cts file, resolved to the file it names. No third-party program: a regular
// expression per form (the sources are formatted by prettier, so a static import or re-export
// starts its line), and a specifier that names no file of src/ is reported, never dropped.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

/** Files (repository-relative, `src/derive/disks.ts`) and, for each, the files it imports. */
export type ImportGraph = ReadonlyMap<string, ReadonlySet<string>>;

/** One import the shape refuses: a file of a lower stage importing one of a higher stage. */
export interface UpwardImport {
  readonly from: string;
  readonly to: string;
  readonly fromStage: string;
  readonly toStage: string;
}

/** An import of a lower stage into a higher one that is let be, and why. */
export interface AllowedImport {
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

// A static import or re-export, at the start of a line (its clause may span lines: `import {\n a,\n} from`).
const STATIC = /^(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"\n]+)['"]/gm;
// A dynamic import with a literal relative specifier.
const DYNAMIC = /\bimport\(\s*['"](\.{1,2}\/[^'"\n]+)['"]\s*\)/g;

/** The .ts and .cts files under `dir` (repository-relative to `repo`), sorted. */
export function sourceFiles(repo: string, dir = 'src'): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(join(repo, d), { withFileTypes: true })) {
      const p = posix.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.c?ts$/.test(e.name) && !/\.d\.c?ts$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** The relative specifiers `text` imports or re-exports, in order. */
export function specifiers(text: string): string[] {
  return [...text.matchAll(STATIC), ...text.matchAll(DYNAMIC)].map((m) => m[1]!);
}

/** The file a relative specifier of `from` names, or undefined. */
function resolveSpecifier(repo: string, from: string, spec: string): string | undefined {
  const base = posix.join(posix.dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.cjs$/, '.cts'), `${base}.ts`, `${base}/index.ts`];
  for (const c of candidates) {
    const abs = join(repo, c);
    if (existsSync(abs) && statSync(abs).isFile()) return posix.normalize(relative(repo, abs).split('\\').join('/'));
  }
  return undefined;
}

/** The import graph of src/, and the imports that name no file (`file: specifier`). */
export function importGraph(repo: string): { graph: ImportGraph; unresolved: string[] } {
  const graph = new Map<string, Set<string>>();
  const unresolved: string[] = [];
  for (const file of sourceFiles(repo)) {
    const edges = new Set<string>();
    for (const spec of specifiers(readFileSync(join(repo, file), 'utf8'))) {
      const to = resolveSpecifier(repo, file, spec);
      if (to === undefined) unresolved.push(`${file}: ${spec}`);
      else if (to.startsWith('src/')) edges.add(to);
    }
    graph.set(file, edges);
  }
  return { graph, unresolved };
}

/** `graph` with one more edge (a mutation the shape check must refuse). */
export function withEdge(graph: ImportGraph, from: string, to: string): ImportGraph {
  const copy = new Map([...graph].map(([f, edges]) => [f, new Set(edges)]));
  copy.set(from, new Set([...(copy.get(from) ?? []), to]));
  return copy;
}

/** Every import cycle: each strongly connected set of two files or more (or a file importing itself), its files sorted. */
export function cycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative (no recursion depth to mind).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  let next = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; edges: string[]; i: number }[] = [];
    const enter = (node: string): void => {
      index.set(node, next);
      low.set(node, next++);
      stack.push(node);
      onStack.add(node);
      work.push({ node, edges: [...(graph.get(node) ?? [])], i: 0 });
    };
    enter(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      if (top.i < top.edges.length) {
        const to = top.edges[top.i++]!;
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) !== index.get(top.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== top.node);
      if (component.length > 1 || graph.get(top.node)?.has(top.node)) found.push(component.sort());
    }
  }
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/**
 * The stage of a file of src/: the index in `stages` (ground floor first) of the group naming its
 * folder (`derive` for src/derive/**) or, for a file directly in src/, its name (`pipeline.ts`).
 */
export function stageOf(stages: readonly (readonly string[])[], file: string): number {
  const top = file.split('/')[1]!;
  return stages.findIndex((group) => group.includes(top));
}

/** The files of `graph` whose folder (or name) no stage lists. */
export function unstaged(graph: ImportGraph, stages: readonly (readonly string[])[]): string[] {
  return [...graph.keys()].filter((f) => stageOf(stages, f) < 0);
}

/** Every import of a lower stage into a higher one that `allowed` does not name. */
export function upwardImports(
  graph: ImportGraph,
  stages: readonly (readonly string[])[],
  allowed: readonly AllowedImport[] = [],
): UpwardImport[] {
  const out: UpwardImport[] = [];
  const name = (i: number) => stages[i]!.join('+');
  for (const [from, edges] of graph) {
    const s = stageOf(stages, from);
    for (const to of edges) {
      const t = stageOf(stages, to);
      if (s < 0 || t <= s || allowed.some((a) => a.from === from && a.to === to)) continue;
      out.push({ from, to, fromStage: name(s), toStage: name(t) });
    }
  }
  return out;
}

/** Whether a file was written by a generator (its first line says so); the size bound is for hand-written files. */
export function isGenerated(text: string): boolean {
  return /^(?:\/\*|\/\/) Generated\b/.test(text);
}

/** The number of lines of `text`, as `wc -l` counts them with a final newline. */
export function lineCount(text: string): number {
  return text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}
