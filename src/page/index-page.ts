// The report's index: a row per site (its counts by state with logs, by role and kind always),
// linked to the site's pages; with `--fleet`, the fleet's published digests. Bounded: a fleet of
// many sites is paged like a site's nodes.
import { pageDocument } from './document.ts';
import { html, href, type Markup, type Part, scrollBox } from './html.ts';
import type { SiteCounts } from './rows.ts';
import { countsList } from './site-page.ts';
import { fleetPageName } from './fleet.ts';
import { pager } from './pager.ts';
import type { PageFile } from './types.ts';

/** One site on the index. */
export interface IndexSite {
  readonly site: string;
  readonly description?: string;
  readonly counts: SiteCounts;
}

/** Sites on one page of the index. */
export const SITES_PER_PAGE = 200;

/** The file of the `page`th page of the index (1-based). */
export function indexPageName(page: number): string {
  return page === 1 ? 'index.html' : `index-${page}.html`;
}

function siteRow(s: IndexSite, logs: boolean): Markup {
  return html`<tr>
    <th scope="row"><a href="${href(`sites/${s.site}/index.html`)}">${s.site}</a></th>
    <td>${s.description ?? ''}</td>
    <td>${countsList(s.counts, logs)}</td>
    <td>
      <a href="${href(`sites/${s.site}/print.html`)}">print view<span class="visually-hidden"> of ${s.site}</span></a>
    </td>
  </tr>`;
}

/** Findings of the logs shown on the index, at most. */
export const FINDINGS_SHOWN = 100;

/** What the logs show beyond each node (a failover pair that could not hear itself, an unreadable log). */
function findingsList(findings: readonly string[]): Part {
  if (findings.length === 0) return '';
  const more = findings.length - FINDINGS_SHOWN;
  return html`<h2>What the boot servers' logs show</h2>
    <ul class="findings">
      ${findings.slice(0, FINDINGS_SHOWN).map((f) => html`<li class="problem">${f}</li>`)}
    </ul>
    ${more > 0 ? html`<p>And ${more} more: <code>harvgen status</code> lists them all.</p>` : ''}`;
}

/** Every page of the index. */
export function indexPages(o: {
  sites: readonly IndexSite[];
  logs: boolean;
  findings: readonly string[];
  generatedAt: string;
  fleet?: Markup;
}): PageFile[] {
  const pages = Math.max(1, Math.ceil(o.sites.length / SITES_PER_PAGE));
  const files: PageFile[] = [];
  for (let page = 1; page <= pages; page++) {
    const nav = pager(page, pages, indexPageName, 'Pages of sites');
    const sites = o.sites.slice((page - 1) * SITES_PER_PAGE, page * SITES_PER_PAGE);
    const body = html`<p>
        ${o.sites.length} site(s), ${o.sites.reduce((a, s) => a + s.counts.nodes, 0)}
        node(s).${o.logs ? '' : ' No boot-server log was read: counts by role and kind only.'}
      </p>
      ${page === 1 ? findingsList(o.findings) : ''} ${nav}
      ${scrollBox(
        'The sites table',
        html` <table id="sites">
          <caption>
            Sites
          </caption>
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Description</th>
              <th scope="col">Nodes</th>
              <th scope="col">Print</th>
            </tr>
          </thead>
          <tbody>
            ${sites.map((s) => siteRow(s, o.logs))}
          </tbody>
        </table>`,
      )}
      ${nav}
      ${
        page === 1 && o.fleet
          ? html`<h2>Fleet</h2>
              ${o.fleet}
              <p><a href="${href(fleetPageName(1))}">The fleet: every published site and what its boot servers serve</a></p>`
          : ''
      }`;
    files.push({
      path: indexPageName(page),
      contents: pageDocument({
        title: `harvgen report${pages > 1 ? `, page ${page}` : ''}`,
        home: 'index.html',
        generatedAt: o.generatedAt,
        body,
      }),
    });
  }
  return files;
}
