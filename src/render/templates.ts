// Eta set-up: templates live in templates/*.eta and get strict data. Eta's own HTML escaping
// is off: each template escapes every value for its own format through `it.esc`
// (src/formats/escape.ts), the one place that knows each format's syntax.
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { escapers } from '../formats/escape.ts';
import { strict } from './strict.ts';
import { generalPath } from '../util/general-path.ts';

const eta = new Eta({
  views: fileURLToPath(new URL('../../templates', import.meta.url)),
  autoEscape: false,
  autoTrim: false,
  cache: true,
  varName: 'it',
});

/**
 * Render templates/<name>.eta with strict data; the escapers are `it.esc`.
 *
 * A template that reads a value its data does not have is a bug that must fail the render, never
 * write "undefined" into a boot script: the strict proxy (./strict.ts) throws on such a read. It
 * costs about ten times the template's own work at every property read, so the fast path renders
 * with the plain data and renders strictly again only when the text holds `undefined` (the strict
 * render then throws, or shows that the word is the inventory's own). The general path
 * (`HARVGEN_GENERAL_PATH=1`) renders strictly always, which also catches a missing value read
 * only in a condition; test/fast-path.test.ts builds every fixture both ways and compares the trees.
 */
export function renderTemplate(name: string, data: object): string {
  const path = `./${name}.eta`;
  if (generalPath()) return eta.render(path, strict({ ...data, esc: escapers }));
  const text = eta.render(path, { ...data, esc: escapers });
  if (text.includes('undefined')) return eta.render(path, strict({ ...data, esc: escapers }));
  return text;
}
