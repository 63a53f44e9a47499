// Eta set-up: templates live in templates/*.eta and get strict data. Eta's own HTML escaping
// is off: each template escapes every value for its own format through `it.esc`
// (src/formats/escape.ts), the one place that knows each format's syntax.
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { escapers } from '../formats/escape.ts';
import { strict } from './strict.ts';

const eta = new Eta({
  views: fileURLToPath(new URL('../../templates', import.meta.url)),
  autoEscape: false,
  autoTrim: false,
  cache: true,
  varName: 'it',
});

/** Render templates/<name>.eta with strict data; the escapers are `it.esc`. */
export function renderTemplate(name: string, data: object): string {
  return eta.render(`./${name}.eta`, strict({ ...data, esc: escapers }));
}
