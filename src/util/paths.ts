// Paths. Inventory paths: ['nodes', 2, 'mac'] <-> `nodes[2].mac`, and JSON pointers from ajv. The type
// lives here, below every stage that uses it (load, validate, model, render), so that none of
// them imports it from a stage that runs later. And the one test of a safe relative output path
// (render makes them, emit and pull write them, verify reads them).

/** A path into the merged inventory. */
export type InventoryPath = readonly (string | number)[];

/** `nodes[2].install.device` for display. */
export function formatPath(path: InventoryPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? '(top level)' : out;
}

/** Split an ajv instancePath (`/nodes/2/mac`) into segments, array indexes as numbers. */
export function pointerToPath(pointer: string, root: unknown): (string | number)[] {
  if (pointer === '') return [];
  const segs = pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const out: (string | number)[] = [];
  let cur: unknown = root;
  for (const s of segs) {
    const seg = Array.isArray(cur) && /^\d+$/.test(s) ? Number(s) : s;
    out.push(seg);
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[s] : undefined;
  }
  return out;
}

const SAFE_PATH = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/i;

/**
 * True when `path` is relative, has no `..`/`.` segments, no backslashes and only plain characters
 * (every segment starts with a letter or digit, so none is `.` or `..`).
 */
export function isSafeRelativePath(path: string): boolean {
  return SAFE_PATH.test(path);
}
