// A claim of the user docs about what a firmware, iPXE, GRUB, the installer or cloud-init does
// points at the test that shows it. The user docs may not name test files, so the claim carries a
// marker the reader does not see (`<!-- claim: <id> -->`) and docs/dev/claims.md maps each id to
// its test file and the exact title of the test, or lists it among the claims without a test.
// A sweep finds sentences that make such a claim without a marker; the few that are not claims
// are allowed below, each with its reason.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { markdownToText } from '../src/cli/help/markdown.ts';
import { topicText, TOPICS } from '../src/cli/help/topics.ts';
import {
  CLAIMS_PAGE,
  claimsTable,
  holdsTitle,
  markers,
  read,
  repo,
  unmarkedClaims,
  USER_PAGES,
  type TestedClaim,
  type UntestedClaim,
} from './helpers/doc-claims.ts';

/**
 * Sentences the sweep finds that make no claim about those programs: the page, a piece of the
 * unit's text that finds it, and why it is no claim.
 */
const NOT_CLAIMS: readonly { page: string; text: string; reason: string }[] = [
  {
    page: 'README.md',
    text: "reads the\nboot server's logs",
    reason: 'harvgen is the one that reads the logs; cloud-init is only named as a kind of node',
  },
  {
    page: 'docs/day-2.md',
    text: 'served where the BMC can fetch it',
    reason: 'says where harvgen puts the image; the fetching is the BMC, whose behaviour the BMC tests cover',
  },
  {
    page: 'docs/troubleshooting.md',
    text: 'so it only accepts\nthe release lines it knows',
    reason: 'harvgen is the one that accepts the release lines it knows',
  },
  {
    page: 'docs/troubleshooting.md',
    text: '| the installer stops on a preflight check |',
    reason: 'a symptom the reader sees, the key to the row; the rules are the claims of the installer rules page',
  },
  {
    page: 'docs/verify.md',
    text: 'iPXE and the installer fetch\nover plain HTTP',
    reason: 'follows from the tree: every URL harvgen writes is http:// (boot.server must be http)',
  },
];

const table = claimsTable(read(CLAIMS_PAGE));
const rows: readonly (TestedClaim | UntestedClaim)[] = [...table.tested, ...table.untested];
const pages = USER_PAGES.map((page) => ({ page, text: read(page) }));

test('the claims table has rows, each with an id, a page and a claim, and each untested claim says why', () => {
  assert.ok(table.tested.length >= 20, `${table.tested.length} tested claims`);
  for (const r of rows) assert.ok(/^[a-z0-9-]+$/.test(r.id) && r.page !== '' && r.claim !== '', JSON.stringify(r));
  for (const r of table.untested) assert.ok(r.why.length > 20, `${r.id}: no reason`);
});

test('no claim id is given twice', () => {
  const ids = rows.map((r) => r.id);
  assert.equal(
    ids.filter((id, i) => ids.indexOf(id) !== i),
    [],
  );
});

test('every claim marker of the user docs has a row in docs/dev/claims.md naming its page', () => {
  const missing: string[] = [];
  let seen = 0;
  for (const { page, text } of pages) {
    for (const id of markers(text)) {
      seen++;
      if (!rows.some((r) => r.id === id && r.page === page)) missing.push(`${page}: ${id}`);
    }
  }
  assert.ok(seen >= 20, `${seen} markers`);
  assert.equal(missing, []);
});

test('every row is used by a marker on its page', () => {
  const unused = rows.filter((r) => !pages.some((p) => p.page === r.page && markers(p.text).includes(r.id)));
  assert.equal(
    unused.map((r) => `${r.page}: ${r.id}`),
    [],
  );
});

test('every tested claim names a test file that exists and holds that exact test title', () => {
  const wrong: string[] = [];
  for (const r of table.tested) {
    if (!/^test\/[\w/.-]+\.test\.ts$/.test(r.file) || !existsSync(join(repo, r.file))) wrong.push(`${r.id}: no test file ${r.file}`);
    else if (!holdsTitle(read(r.file), r.title)) wrong.push(`${r.id}: ${r.file} has no test titled "${r.title}"`);
    if (r.runs === '') wrong.push(`${r.id}: does not say what the test runs`);
  }
  assert.equal(wrong, []);
});

test('the sweep: every sentence of the user docs that says what a firmware, iPXE, GRUB, the installer or cloud-init does carries a claim marker', () => {
  const found = unmarkedClaims(pages).filter((u) => !NOT_CLAIMS.some((n) => n.page === u.page && u.text.includes(n.text)));
  assert.equal(
    found.map((u) => `${u.page}:${u.line}: "${u.match}" (add <!-- claim: <id> --> and a row in ${CLAIMS_PAGE})`),
    [],
  );
});

test('every entry of the list of sentences that are no claims still finds its sentence', () => {
  const found = unmarkedClaims(pages);
  for (const n of NOT_CLAIMS) {
    assert.ok(n.reason.length > 20);
    assert.ok(
      found.some((u) => u.page === n.page && u.text.includes(n.text)),
      `${n.page}: "${n.text}" is no longer an unmarked sentence of the sweep: remove it from NOT_CLAIMS`,
    );
  }
});

test('the sweep finds an unmarked claim and accepts a marked one', () => {
  const claim = 'With the default loader iPXE returns to the firmware after `exit`, which boots the disk.';
  assert.equal(unmarkedClaims([{ page: 'x.md', text: `# A page\n\n${claim}\n` }]).length, 1);
  assert.equal(unmarkedClaims([{ page: 'x.md', text: `# A page\n\n${claim} <!-- claim: x -->\n` }]).length, 0);
  // In a list item, a table row, across a line break; never in a code block.
  assert.equal(unmarkedClaims([{ page: 'x.md', text: `- item\n- the firmware\n  ignores it\n\n| a | OVMF boots it |\n` }]).length, 2);
  assert.equal(unmarkedClaims([{ page: 'x.md', text: '```\niPXE returns\n```\n' }]).length, 0);
});

test('harvgen help shows no claim marker: HTML comments are dropped, also inside a paragraph, a list item or a table cell', () => {
  const text = markdownToText(
    'A claim. <!-- claim: a -->\nNext line.\n\n- item <!-- claim: b -->\n\n| x | y |\n| - | - |\n| 1 | two <!-- claim: c --> |\n',
    {
      page: 'x.md',
      topicOf: () => undefined,
    },
  );
  assert.not.match(text, /<!--|claim:/);
  assert.match(text, /A claim\.\nNext line\./);
  assert.match(text, /y: two/);
  for (const topic of TOPICS) assert.not.match(topicText(topic), /<!--/, topic.name);
});

test.run();
