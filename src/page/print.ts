// The print view of a site: one line per machine for the person at the rack (hostname, boot
// MACs, address, BMC, disk, medium, state), a few hundred lines a page, no navigation on paper.
import { pageDocument } from './document.ts';
import { html, type Part, scrollBox } from './html.ts';
import { pager } from './pager.ts';
import type { NodeRow } from './rows.ts';
import type { PageFile } from './types.ts';

/** Lines on one page of the print view. */
export const PRINT_PER_PAGE = 500;

/** The file of the `page`th page of the print view (1-based). */
export function printPageName(page: number): string {
  return page === 1 ? 'print.html' : `print-${page}.html`;
}

function line(r: NodeRow): Part {
  return html`<tr>
    <th scope="row">${r.hostname}</th>
    <td class="mono">${r.macs.join(' ')}</td>
    <td class="mono">${r.address}</td>
    <td class="mono">${r.bmc}</td>
    <td class="mono">${r.disk}</td>
    <td>${r.medium}</td>
    <td>${r.state}</td>
  </tr>`;
}

/** Every page of a site's print view, paths relative to the report's root. */
export function printPages(s: { readonly site: string; readonly rows: readonly NodeRow[]; readonly generatedAt: string }): PageFile[] {
  const pages = Math.max(1, Math.ceil(s.rows.length / PRINT_PER_PAGE));
  const files: PageFile[] = [];
  for (let page = 1; page <= pages; page++) {
    const rows = s.rows.slice((page - 1) * PRINT_PER_PAGE, page * PRINT_PER_PAGE);
    const next = pager(page, pages, printPageName, 'Pages of the print view');
    const body = html`${scrollBox(
      'The print table',
      html` <table>
        <caption>
          One line per machine${pages > 1 ? ` (page ${page} of ${pages})` : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">Hostname</th>
            <th scope="col">Boot MACs</th>
            <th scope="col">Address</th>
            <th scope="col">BMC</th>
            <th scope="col">Install disk</th>
            <th scope="col">Medium</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(line)}
        </tbody>
      </table>`,
    )}
    ${next}`;
    files.push({
      path: `sites/${s.site}/${printPageName(page)}`,
      contents: pageDocument({
        title: `Site ${s.site}: print view${pages > 1 ? `, page ${page}` : ''}`,
        home: '../../index.html',
        generatedAt: s.generatedAt,
        nav: [['index.html', `Site ${s.site}`]],
        body,
      }),
    });
  }
  return files;
}
