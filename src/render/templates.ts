// Eta set-up: templates live in templates/*.eta, get strict data and never escape (the
// outputs are config files, each template escapes what its format needs through helpers).
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { strict } from './strict.ts';

const eta = new Eta({
  views: fileURLToPath(new URL('../../templates', import.meta.url)),
  autoEscape: false,
  autoTrim: false,
  cache: true,
  varName: 'it',
});

/** Render templates/<name>.eta with strict data. */
export function renderTemplate(name: string, data: object): string {
  return eta.render(`./${name}.eta`, strict(data));
}

/** Escape text for an XML attribute or element. */
export function xml(text: string | number): string {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Quote a value for a POSIX shell. */
export function sh(text: string | number): string {
  const s = String(text);
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
