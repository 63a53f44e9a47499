// The one pager of the report: links to the pages of a paged list (the index's sites, the fleet's
// records, a site's nodes, its print view) near the current one, the first and the last, and the
// next one. Bounded: the pager of a list of 10,000 pages is as long as one of 20.
import { html, href, type Part } from './html.ts';

/** Pages linked on each side of the current one. */
const AROUND = 3;

/** The pages the pager of page `page` of `pages` names, in order; `undefined` where pages are left out. */
export function pagerPages(page: number, pages: number): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (let p = 1; p <= pages; p++) {
    if (p === 1 || p === pages || Math.abs(p - page) <= AROUND) out.push(p);
    else if (out[out.length - 1] !== undefined) out.push(undefined);
  }
  return out;
}

/** The pager of page `page` of `pages` (1-based), each page's file named by `nameOf`; nothing for one page. */
export function pager(page: number, pages: number, nameOf: (page: number) => string, label: string): Part {
  if (pages <= 1) return '';
  const links = pagerPages(page, pages).map((p) =>
    p === undefined
      ? html`<li aria-hidden="true">…</li>`
      : p === page
        ? html`<li><span aria-current="page">${p}</span></li>`
        : html`<li><a href="${href(nameOf(p))}">${p}</a></li>`,
  );
  const next = page < pages ? html` <a href="${href(nameOf(page + 1))}" rel="next">next page</a>` : '';
  return html`<nav class="pager" aria-label="${label}">
    <p>Page ${page} of ${pages}.${next}</p>
    <ul>
      ${links}
    </ul>
  </nav>`;
}
