// The report's index: a row per site (its counts by state with logs, by role and kind always),
// linked to the site's pages; with `--fleet`, the fleet's published digests. Bounded: a fleet of
// many sites is paged like a site's nodes.
import { pageDocument } from './document.ts';
import { html, href, type Markup, type Part } from './html.ts';
import type { SiteCounts } from './rows.ts';
import { countsList } from './site-page.ts';
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

function indexPager(page: number, pages: number): Part {
  if (pages <= 1) return '';
  return html`<nav class="pager" aria-label="Pages of sites">
    <ul>
      ${Array.from({ length: pages }, (_, i) => i + 1).map((p) =>
        p === page ? html`<li><span aria-current="page">${p}</span></li>` : html`<li><a href="${href(indexPageName(p))}">${p}</a></li>`,
      )}
    </ul>
  </nav>`;
}

/** Every page of the index. */
export function indexPages(o: { sites: readonly IndexSite[]; logs: boolean; generatedAt: string; fleet?: Markup }): PageFile[] {
  const pages = Math.max(1, Math.ceil(o.sites.length / SITES_PER_PAGE));
  const files: PageFile[] = [];
  for (let page = 1; page <= pages; page++) {
    const sites = o.sites.slice((page - 1) * SITES_PER_PAGE, page * SITES_PER_PAGE);
    const body = html`<p>
        ${o.sites.length} site(s), ${o.sites.reduce((a, s) => a + s.counts.nodes, 0)}
        node(s).${o.logs ? '' : ' No boot-server log was read: counts by role and kind only.'}
      </p>
      ${indexPager(page, pages)}
      <div class="scroll">
        <table id="sites">
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
        </table>
      </div>
      ${indexPager(page, pages)}
      ${
        page === 1 && o.fleet
          ? html`<h2>Fleet</h2>
              ${o.fleet}`
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
