// The one pager of the report: links to every page of a paged list (the index's sites, the
// fleet's records, a site's nodes), the current one marked, and a link to the next one.
import { html, href, type Part } from './html.ts';

/** The pager of page `page` of `pages` (1-based), each page's file named by `nameOf`; nothing for one page. */
export function pager(page: number, pages: number, nameOf: (page: number) => string, label: string): Part {
  if (pages <= 1) return '';
  const links = Array.from({ length: pages }, (_, i) => i + 1).map((p) =>
    p === page ? html`<li><span aria-current="page">${p}</span></li>` : html`<li><a href="${href(nameOf(p))}">${p}</a></li>`,
  );
  const next = page < pages ? html` <a href="${href(nameOf(page + 1))}" rel="next">next page</a>` : '';
  return html`<nav class="pager" aria-label="${label}">
    <p>Page ${page} of ${pages}.${next}</p>
    <ul>
      ${links}
    </ul>
  </nav>`;
}
