// The frame of every page of the report: one HTML document with its CSS inline (no file to fetch,
// no font to download), readable on a phone (viewport, tables that scroll in their own box) and
// printable (the print view drops the navigation). The only script filters a table's rows; the
// page reads the same without it.
import { html, href, Markup, type Part } from './html.ts';

const CSS = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45;color:#1a1a1a;background:#fff}
body{margin:0 auto;max-width:72rem;padding:0.75rem}
h1{font-size:1.5rem;margin:0.5rem 0}h2{font-size:1.2rem;margin:1.25rem 0 0.5rem}
a{color:#0645ad}a:focus,input:focus{outline:2px solid #0645ad;outline-offset:2px}
nav ul{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:0.75rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:0.9rem}caption{text-align:left;font-weight:600;padding:0.3rem 0.5rem}
th,td{text-align:left;padding:0.3rem 0.5rem;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f0f0f0;position:sticky;top:0}
td.mono,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:0.85rem;white-space:nowrap}
.state{display:inline-block;padding:0 0.4rem;border-radius:0.3rem;border:1px solid #555;white-space:nowrap}
.s-installing,.s-booting,.s-booted{background:#fff3cd;color:#4d3800}
.s-installed,.s-ok{background:#dff3e4;color:#0b3d1a}.s-never-booted,.s-unknown,.s-local,.s-not-verified{background:#eee;color:#222}
.s-failed,.s-loop,.problem,.s-drift,.s-differs,.s-identity,.s-verdict,.s-unreachable,.s-timeout,.s-record,.s-stale{background:#fde2e1;color:#6b0b07}
.problem{padding:0 0.2rem}td.problems{min-width:28rem}
dl.counts{display:flex;flex-wrap:wrap;gap:0.25rem 1rem;margin:0.25rem 0}dl.counts div{display:flex;gap:0.3rem}
dl.counts dt{font-weight:600}dl.counts dd{margin:0}
details{margin:0.2rem 0}summary{cursor:pointer}
figure{margin:0.5rem 0}svg{max-width:100%;height:auto;border:1px solid #ccc}
footer{margin-top:2rem;font-size:0.8rem;color:#444}
.filter{display:none;margin:0.5rem 0}.js .filter{display:block}
.pager{margin:0.75rem 0}.pager ul{list-style:none;display:flex;flex-wrap:wrap;gap:0.5rem;padding:0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:40rem){body{padding:0.4rem}table{font-size:0.8rem}}
@media print{nav,.filter,.pager,footer{display:none}body{max-width:none}th{position:static}a{color:#000;text-decoration:none}}
`
  .trim()
  .replace(/\n/g, '');

// Filters the rows of the table an input names (data-for) by the input's text: a table of several
// bodies (a fleet site's servers) by body. Optional.
const SCRIPT =
  "document.documentElement.className='js';document.addEventListener('input',function(e){var i=e.target;if(!i.dataset||!i.dataset.for)return;var t=document.getElementById(i.dataset.for);if(!t)return;var q=i.value.toLowerCase();var g=t.tBodies.length>1?t.tBodies:t.querySelectorAll('tbody tr');Array.prototype.forEach.call(g,function(r){r.hidden=q!==''&&r.textContent.toLowerCase().indexOf(q)<0});});";

/** One page: its title, where the report's index is from it, its body. */
export interface PageFrame {
  readonly title: string;
  /** The relative link to the report's index (`index.html`, `../../index.html`). */
  readonly home: string;
  /** The generation time shown in the footer (fixed for reproducible pages). */
  readonly generatedAt: string;
  readonly body: Part;
  /** Extra navigation links: [link, text]. */
  readonly nav?: readonly (readonly [string, string])[];
}

/** A whole HTML document. */
export function pageDocument(frame: PageFrame): string {
  const links: Part = [[frame.home, 'All sites'] as const, ...(frame.nav ?? [])].map(
    ([to, text]) => html`<li><a href="${href(to)}">${text}</a></li>`,
  );
  return `<!DOCTYPE html>\n${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="generator" content="harvgen report" />
        <title>${frame.title}</title>
        <style>
          ${rawCss()}
        </style>
      </head>
      <body>
        <header>
          <nav aria-label="Report">
            <ul>
              ${links}
            </ul>
          </nav>
        </header>
        <main>
          <h1>${frame.title}</h1>
          ${frame.body}
        </main>
        <footer><p>Written by harvgen report at ${frame.generatedAt}. Static page: no server, no script needed.</p></footer>
        <script>
          ${rawScript()};
        </script>
      </body>
    </html> `.text
  }`;
}

/** The style sheet, a constant of this file (no value in it). */
function rawCss(): Markup {
  return new Markup(CSS);
}

/** The script, a constant of this file (no value in it). */
function rawScript(): Markup {
  return new Markup(SCRIPT);
}
