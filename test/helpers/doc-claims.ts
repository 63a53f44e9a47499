// Reading claim markers and the claims table (docs/dev/claims.md), and the sweep for sentences of
// the user docs that say what a firmware, iPXE, GRUB, the installer or cloud-init does. Used by
// test/doc-claims.test.ts.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fg from 'fast-glob';

export const repo = resolve(import.meta.dirname, '../..');
export const read = (path: string) => readFileSync(join(repo, path), 'utf8');

/** The user docs: README.md and docs/ outside docs/dev/ (where test files may not be named). */
export const USER_PAGES = ['README.md', ...fg.sync('docs/**/*.md', { cwd: repo }).filter((p) => !p.startsWith('docs/dev/'))].sort();

/** A claim marker: an HTML comment the reader does not see, `<!-- claim: <id> -->`. */
const MARKER = /<!-- claim: ([a-z0-9-]+) -->/g;

/** The claim ids a text marks, in order. */
export const markers = (text: string): string[] => [...text.matchAll(MARKER)].map((m) => m[1]!);

/**
 * A sentence that names a firmware, iPXE, GRUB, the installer or cloud-init together with a
 * behaviour verb later in the same sentence (no full stop between them).
 */
export const CLAIM =
  /\b(iPXE|ipxe\.efi|undionly|firmware|OVMF|SeaBIOS|GRUB|the installer|cloud-init)\b[^.]*?\b(returns?|hangs?|ignores?|drops?|reads?|fetch(es)?|retries|falls? back|boots|stops?|waits?|accepts?|refuses?|silently)\b/i;

/** One unit of a page: a paragraph, a list item or a table row, with the line it starts at. */
export interface Unit {
  readonly page: string;
  readonly line: number;
  readonly text: string;
}

/**
 * The units of a Markdown text outside code blocks and generated sections (those come from the
 * schema and the code catalogue; the hand-written pages carry their claims).
 */
export function units(page: string, markdown: string): Unit[] {
  const out: Unit[] = [];
  let lines: string[] = [];
  let start = 0;
  let fence = false;
  let generated = false;
  const flush = () => {
    if (lines.length > 0) out.push({ page, line: start, text: lines.join('\n') });
    lines = [];
  };
  markdown.split('\n').forEach((line, i) => {
    if (/<!-- (BEGIN|END) GENERATED /.test(line) || /^\s*```/.test(line)) {
      flush();
      if (/^\s*```/.test(line)) fence = !fence;
      else generated = line.includes('BEGIN');
      return;
    }
    if (generated || fence) return;
    const alone = /^\s*(\||#)/.test(line); // a table row or a heading is a unit by itself
    if (line.trim() === '' || alone || /^\s*([-*]|\d+\.)\s/.test(line)) flush();
    if (line.trim() === '') return;
    if (lines.length === 0) start = i + 1;
    lines.push(line);
    if (alone) flush();
  });
  flush();
  return out;
}

/** What the sweep reads of a unit: no comments, code spans as a word, links as their text. */
export const prose = (text: string) =>
  text
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/`[^`]*`/g, 'CODE')
    .replace(/\]\([^)]*\)/g, ']')
    .replace(/\s+/g, ' ');

/** The units of the user docs that say what one of those programs does and carry no marker. */
export function unmarkedClaims(pages: readonly { page: string; text: string }[]): (Unit & { match: string })[] {
  return pages.flatMap(({ page, text }) =>
    units(page, text).flatMap((u) => {
      const m = CLAIM.exec(prose(u.text));
      return m && markers(u.text).length === 0 ? [{ ...u, match: m[0] }] : [];
    }),
  );
}

/** The cells of a Markdown table row: `\|` is a pipe inside a cell; one pair of backticks around a cell is dropped. */
const cells = (row: string) =>
  row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) =>
      c
        .trim()
        .replace(/\\\|/g, '|')
        .replace(/^`([^`]*)`$/, '$1'),
    );

/** The body rows of the first table under the heading `## <heading>` of a Markdown text. */
export function tableUnder(markdown: string, heading: string): string[][] {
  const at = markdown.indexOf(`\n## ${heading}\n`);
  if (at < 0) throw new Error(`no heading "## ${heading}"`);
  const rest = markdown.slice(at + heading.length + 5);
  const next = rest.search(/\n## /);
  const rows = (next < 0 ? rest : rest.slice(0, next)).split('\n').filter((l) => /^\s*\|/.test(l));
  return rows.slice(2).map(cells);
}

/** A claim the docs make with the test that shows it. */
export interface TestedClaim {
  readonly id: string;
  readonly page: string;
  readonly claim: string;
  readonly file: string;
  readonly title: string;
  readonly runs: string;
}

/** A claim the docs make that no test shows, and why. */
export interface UntestedClaim {
  readonly id: string;
  readonly page: string;
  readonly claim: string;
  readonly why: string;
}

export const CLAIMS_PAGE = 'docs/dev/claims.md';
export const TESTED_HEADING = 'Claims and the tests that show them';
export const UNTESTED_HEADING = 'Claims without a test';

export function claimsTable(markdown: string): { tested: TestedClaim[]; untested: UntestedClaim[] } {
  const tested = tableUnder(markdown, TESTED_HEADING).map(([id = '', page = '', claim = '', file = '', title = '', runs = '']) => ({
    id,
    page,
    claim,
    file,
    title,
    runs,
  }));
  const untested = tableUnder(markdown, UNTESTED_HEADING).map(([id = '', page = '', claim = '', why = '']) => ({ id, page, claim, why }));
  return { tested, untested };
}

/** Whether a test file holds `title` as a whole string literal (a test's title, or a case's title in a table of cases). */
export function holdsTitle(source: string, title: string): boolean {
  return ["'", '"', '`'].some((q) => source.includes(`${q}${title}${q}`));
}
