// The fleet part of the report (`--fleet <dir>`): the fleet record `harvgen publish --record`
// writes in git, one `<site>.json` a site: every site's published digest, its boot server(s) and
// the artifact it should serve. Read through verify's checked reader: a record is untrusted data.
import type { Diagnostic } from '../diagnostics/types.ts';
import { listFleetRecords, readFleetRecord, type FleetRecord } from '../verify/fleet.ts';
import { html, href, type Markup } from './html.ts';

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

/** The fleet table: a row per record, linked to the site's page when the report has it. */
export function fleetTable(records: readonly FleetRecord[], pagesOf: ReadonlySet<string>): Markup {
  const rows = records.map((r) => {
    const name = pagesOf.has(r.site) ? html`<a href="${href(`sites/${r.site}/index.html`)}">${r.site}</a>` : r.site;
    const servers = r.servers.length > 0 ? r.servers : [r.boot_server];
    return html`<tr>
      <th scope="row">${name}</th>
      <td class="mono">${r.boot_server}</td>
      <td class="mono">${servers.join(' ')}</td>
      <td class="mono">${r.repository}:${r.tag}</td>
      <td class="mono">${r.digest}</td>
      <td>${r.sample.length}</td>
    </tr>`;
  });
  return html`<div class="scroll">
      <table id="fleet">
        <caption>
          Published sites (the fleet record in git)
        </caption>
        <thead>
          <tr>
            <th scope="col">Site</th>
            <th scope="col">Boot server</th>
            <th scope="col">Servers checked</th>
            <th scope="col">Artifact</th>
            <th scope="col">Published digest</th>
            <th scope="col">Sample files</th>
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>
    </div>
    <p>
      What each boot server serves now, and its drift from this digest, is what <code>harvgen verify --fleet</code> checks against the live
      servers; this page shows what git says they should serve.
    </p>`;
}
