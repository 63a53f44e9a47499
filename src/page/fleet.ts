// The fleet part of the report (`--fleet <dir>`, and `--verified <file>`): the fleet record
// `harvgen publish --record` writes in git, one `<site>.json` a site (every site's published
// digest, its boot server(s), the artifact it should serve), read through verify's checked reader
// (a record is untrusted data); and, given, what `verify --fleet` found each boot server serving:
// its state, the digest it serves, where it read it, its materializer's own verdict, the drift.
// Its own pages (`fleet.html`, `fleet-<n>.html`), paged like the index; a site's page shows its rows.
import type { Diagnostic } from '../diagnostics/types.ts';
import { listFleetRecords, readFleetRecord, recordServers, type FleetRecord } from '../verify/fleet-record.ts';
import { pageDocument } from './document.ts';
import { html, href, type Markup, type Part, scrollBox } from './html.ts';
import { pager } from './pager.ts';
import type { PageFile } from './types.ts';
import type { Verified, VerifiedServer } from './verified.ts';

/** Records on one page of the fleet. */
export const RECORDS_PER_PAGE = 200;

/** The records of a fleet directory, and a diagnostic for each that cannot be used. */
export function readFleet(dir: string): { records: FleetRecord[]; diagnostics: Diagnostic[] } {
  const listed = listFleetRecords(dir);
  const problem = (message: string, file: string): Diagnostic => ({
    code: 'VERIFY_FLEET_RECORD',
    severity: 'error',
    message,
    hint: 'give --fleet the directory `harvgen publish --record` writes (one <site>.json a site)',
    file,
  });
  if (listed.problem !== undefined) return { records: [], diagnostics: [problem(`the fleet record: ${listed.problem}`, dir)] };
  const records: FleetRecord[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of listed.files) {
    const r = readFleetRecord(file);
    if ('problem' in r) diagnostics.push(problem(`the fleet record ${file} ${r.problem}`, file));
    else records.push(r.record);
  }
  return { records, diagnostics };
}

/** How one boot server of a site stands: verify's state, or why there is none to show. */
export type ServedState = VerifiedServer['state'] | 'not verified' | 'stale';

/** One boot server of a record, with what verify found there. */
export interface ServedRow {
  readonly url: string;
  readonly state: ServedState;
  /** The digest it serves (verify's), when it said. */
  readonly served: string | null;
  /** Where it read what it serves. */
  readonly source: string | null;
  /** The materializer's own last verify, in words. */
  readonly verdict: string;
  /** What is wrong, in words (empty: nothing). */
  readonly problem: string;
}

/** One site of the fleet: its record and each of its boot servers. */
export interface FleetRow {
  readonly record: FleetRecord;
  readonly servers: readonly ServedRow[];
}

/** The fleet, site by site: each record with what verify found on each of its servers (none given: not verified). */
export function fleetRows(
  records: readonly FleetRecord[],
  verified: Verified | undefined,
): { rows: FleetRow[]; diagnostics: Diagnostic[] } {
  const found = new Map<string, VerifiedServer>();
  for (const s of verified?.servers ?? []) found.set(`${s.site}\u0000${s.url ?? ''}`, s);
  const named = new Set<string>();
  const rows = records.map((record) => {
    const servers = recordServers(record).map((url): ServedRow => {
      const key = `${record.site}\u0000${url}`;
      named.add(key);
      return servedRow(record, url, verified ? found.get(key) : undefined, verified !== undefined);
    });
    return { record, servers };
  });
  const extra = [...found.keys()].filter((k) => !named.has(k)).map((k) => k.replace('\u0000', ' at '));
  const diagnostics: Diagnostic[] =
    extra.length === 0
      ? []
      : [
          {
            code: 'REPORT_VERIFIED',
            severity: 'warning',
            message: `--verified names ${extra.length} site(s) or server(s) the fleet record does not (${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}): left out of the report`,
            hint: 'give the verify results of the same fleet record (`harvgen verify --fleet <dir> --json`, run again after a publish)',
          },
        ];
  return { rows, diagnostics };
}

function servedRow(record: FleetRecord, url: string, v: VerifiedServer | undefined, given: boolean): ServedRow {
  const none = { url, served: null, source: null, verdict: '' };
  if (v === undefined)
    return { ...none, state: 'not verified', problem: given ? 'the verify results do not name this server' : 'no verify results given' };
  const verdict =
    v.verdict === null ? 'none recorded' : `${v.verdict.ok ? 'passed' : 'failed'}${v.verdict.at !== null ? ` at ${v.verdict.at}` : ''}`;
  const at = { url, served: v.served, source: v.source, verdict };
  // Results of an older record say nothing of what git says now.
  if (v.expected !== null && v.expected !== record.digest)
    return { ...at, state: 'stale', problem: `verified against ${v.expected}; the record now says ${record.digest}: verify again` };
  const drift = v.served !== null && v.served !== record.digest ? `serves ${v.served}, git says ${record.digest}` : '';
  return { ...at, state: v.state, problem: v.problem ?? drift };
}

/** Each state's count over every server of the rows. */
export function servedCounts(rows: readonly FleetRow[]): [ServedState, number][] {
  const counts = new Map<ServedState, number>();
  for (const r of rows) for (const s of r.servers) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The file of the `page`th page of the fleet (1-based), beside the index. */
export function fleetPageName(page: number): string {
  return page === 1 ? 'fleet.html' : `fleet-${page}.html`;
}

/** The fleet table's rows: a line per boot server, the site's cells spanning its servers. */
function recordRows(row: FleetRow, siteLink: Part): Markup[] {
  const r = row.record;
  const span = row.servers.length;
  return row.servers.map((s, i) => {
    const site =
      i === 0
        ? html`<th scope="rowgroup" rowspan="${span}">${siteLink}</th>
            <td rowspan="${span}" class="mono">${r.repository}:${r.tag}</td>
            <td rowspan="${span}" class="mono">${r.digest}</td>`
        : '';
    return html`<tr data-state="${s.state}">
      ${site}
      <td class="mono">${s.url}</td>
      <td><span class="state s-${s.state.replace(' ', '-')}">${s.state}</span></td>
      <td class="mono">${s.served ?? ''}</td>
      <td class="mono">${s.source ?? ''}</td>
      <td>${s.verdict}</td>
      <td>${s.problem !== '' ? html`<span class="problem">${s.problem}</span>` : ''}</td>
    </tr>`;
  });
}

/** The table of some rows; `siteHref` links a site to its page (undefined: not in the report). */
export function fleetTable(rows: readonly FleetRow[], siteHref: (site: string) => string | undefined, id = 'fleet'): Markup {
  const body = rows.map((row) => {
    const to = siteHref(row.record.site);
    const link = to !== undefined ? html`<a href="${href(to)}">${row.record.site}</a>` : row.record.site;
    return html`<tbody>
      ${recordRows(row, link)}
    </tbody>`;
  });
  return html`${scrollBox(
    id === 'fleet' ? 'The fleet table' : 'Where the site is published',
    html` <table id="${id}">
      <caption>
        Published sites (the fleet record in git) and what their boot servers serve
      </caption>
      <thead>
        <tr>
          <th scope="col">Site</th>
          <th scope="col">Artifact</th>
          <th scope="col">Published digest</th>
          <th scope="col">Boot server</th>
          <th scope="col">State</th>
          <th scope="col">Serves</th>
          <th scope="col">Read from</th>
          <th scope="col">Its own verify</th>
          <th scope="col">Drift or problem</th>
        </tr>
      </thead>
      ${body}
    </table>`,
  )}`;
}

/** The counts line of the fleet: sites, and servers by state. */
export function fleetSummary(rows: readonly FleetRow[], verified: boolean): Markup {
  const states = servedCounts(rows).map(([s, n]) => `${n} ${s}`);
  return html`<p>
    ${rows.length} published site(s);
    ${verified ? html`boot servers: ${states.join(', ') || 'none'}.` : 'no verify results given: what each boot server serves is not known.'}
  </p>`;
}

/** Every page of the fleet, paths relative to the report's root. */
export function fleetPages(o: {
  rows: readonly FleetRow[];
  verified: boolean;
  sites: ReadonlySet<string>;
  generatedAt: string;
}): PageFile[] {
  const pages = Math.max(1, Math.ceil(o.rows.length / RECORDS_PER_PAGE));
  const files: PageFile[] = [];
  const siteHref = (site: string) => (o.sites.has(site) ? `sites/${site}/index.html` : undefined);
  for (let page = 1; page <= pages; page++) {
    const rows = o.rows.slice((page - 1) * RECORDS_PER_PAGE, page * RECORDS_PER_PAGE);
    const nav = pager(page, pages, fleetPageName, 'Pages of the fleet');
    const body = html`${fleetSummary(o.rows, o.verified)}
      <p class="filter">
        <label for="fleet-filter">Filter the sites on this page</label> <input id="fleet-filter" type="search" data-for="fleet" />
      </p>
      ${nav}${fleetTable(rows, siteHref)}${nav}`;
    files.push({
      path: fleetPageName(page),
      contents: pageDocument({ title: `Fleet${pages > 1 ? `, page ${page}` : ''}`, home: 'index.html', generatedAt: o.generatedAt, body }),
    });
  }
  return files;
}
