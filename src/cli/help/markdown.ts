// Markdown as plain terminal text, for `harvgen help <topic>`: enough of Markdown for the pages of
// docs/ (headings, paragraphs, lists, tables, code blocks, inline marks and links), no colour.
import { posix } from 'node:path';

/** Where the page is (relative to docs/) and how to name the topic of a linked page. */
export interface TextOptions {
  readonly page: string;
  readonly topicOf: (page: string) => string | undefined;
}

/** The text of a Markdown page for a terminal. */
export function markdownToText(markdown: string, options: TextOptions): string {
  const out: string[] = [];
  let fence = false;
  let table: string[][] = [];
  let paragraph: string[] = [];
  // A paragraph is made text as a whole: a code span or a link may go over a line break.
  const flush = () => {
    if (table.length > 0) out.push(...tableText(table));
    if (paragraph.length > 0) out.push(...inline(paragraph.join('\n'), options).split('\n'));
    table = [];
    paragraph = [];
  };
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      flush();
      fence = !fence;
      continue;
    }
    if (fence) {
      out.push(line === '' ? '' : `    ${line}`);
      continue;
    }
    if (/^\s*<!--.*-->\s*$/.test(line)) continue;
    if (/^\s*\|/.test(line)) {
      if (paragraph.length > 0) flush();
      if (!/^\s*\|(\s*:?-+:?\s*\|)+\s*$/.test(line)) table.push(cells(line).map((c) => inline(c, options)));
      continue;
    }
    if (table.length > 0) flush();
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const text = inline(heading[2]!, options);
      out.push(text);
      if (heading[1]!.length <= 2) out.push((heading[1] === '#' ? '=' : '-').repeat(text.length));
      continue;
    }
    if (line.trim() === '') {
      flush();
      out.push('');
      continue;
    }
    paragraph.push(line);
  }
  flush();
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim() + '\n'
  );
}

/** The cells of a table row (`\|` is a pipe inside a cell). */
function cells(row: string): string[] {
  const inner = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

/** A table as text: each row's first cell on a line, the other cells under it as `header: value`. */
function tableText(rows: string[][]): string[] {
  const [header, ...body] = rows;
  if (!header || body.length === 0) return rows.map((r) => r.join('  '));
  const lines: string[] = [];
  for (const row of body) {
    lines.push(`* ${row[0] ?? ''}`);
    row.slice(1).forEach((cell, i) => {
      if (cell !== '') lines.push(`    ${header[i + 1] ?? ''}: ${cell}`);
    });
  }
  return lines;
}

/**
 * Inline Markdown as text: HTML comments (the docs' claim markers) dropped, code marks and
 * emphasis dropped (never inside code), links as their text (a topic named).
 */
function inline(text: string, options: TextOptions): string {
  return text
    .replace(/[ \t]*<!--[\s\S]*?-->/g, '')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label: string, href: string) => linkText(label, href, options))
    .split(/(`[^`]+`)/)
    .map((part, i) => (i % 2 === 1 ? part.slice(1, -1) : part.replace(/\*\*([^*]+)\*\*/g, '$1').replace(/<br>/g, ' ')))
    .join('');
}

/** A link's text: a link to another topic's page says `harvgen help <topic>`; a web link keeps its URL. */
function linkText(label: string, href: string, options: TextOptions): string {
  if (/^[a-z]+:/.test(href)) return `${label} (${href})`;
  const [path = ''] = href.split('#');
  if (path === '') return label;
  const page = posix.normalize(posix.join(posix.dirname(options.page), path));
  const topic = options.topicOf(page);
  return topic === undefined ? label : `${label} (harvgen help ${topic})`;
}
