// Expectation markers inside fixture YAML files:
//   `#     ^ CODE`            the code is reported at the line above, at the caret's column;
//   `# expect: CODE 14:1`     the code is reported at line 14, column 1 of this file.
import { readFileSync } from 'node:fs';
import fg from 'fast-glob';
import { join } from 'node:path';

/** One expected diagnostic: code and `file:line:col` (file relative to the fixture dir). */
export interface Expected {
  readonly code: string;
  readonly where: string;
}

/** Read every marker of the YAML files under `dir`. */
export function readMarkers(dir: string, display: (rel: string) => string): Expected[] {
  const out: Expected[] = [];
  for (const rel of fg.sync('**/*.{yaml,yml}', { cwd: dir }).sort()) {
    const lines = readFileSync(join(dir, rel), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const caret = /^#( *)\^ ([A-Z0-9_]+)\s*$/.exec(line);
      if (caret) out.push({ code: caret[2]!, where: `${display(rel)}:${i}:${caret[1]!.length + 2}` });
      const explicit = /^# expect: ([A-Z0-9_]+) (\d+):(\d+)\s*$/.exec(line);
      if (explicit) out.push({ code: explicit[1]!, where: `${display(rel)}:${explicit[2]}:${explicit[3]}` });
    });
  }
  return out;
}
