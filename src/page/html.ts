// HTML built in code, every value escaped: `html\`...\`` escapes each interpolated value with the
// one HTML escaper (src/formats/escape.ts) unless it is already markup this module built (`Markup`).
// So no value of an inventory, a log or a fleet record can add a tag, an attribute or a link.
import { escapers } from '../formats/escape.ts';

/** Markup already escaped: the only thing `html` writes as is. */
export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What may be interpolated: a value (escaped as text), markup, or a list of either (joined). */
export type Part = string | number | Markup | undefined | false | null | readonly Part[];

function partText(p: Part): string {
  if (p === undefined || p === false || p === null) return '';
  if (p instanceof Markup) return p.text;
  if (Array.isArray(p)) return (p as readonly Part[]).map(partText).join('');
  return escapers.html(p as string | number);
}

/** Markup from a template: each value escaped as HTML text. */
export function html(strings: TemplateStringsArray, ...parts: readonly Part[]): Markup {
  let out = strings[0]!;
  for (let i = 0; i < parts.length; i++) out += partText(parts[i]!) + strings[i + 1]!;
  return new Markup(out);
}

/** A link to another page of the report (relative; refused otherwise). */
export function href(value: string): Markup {
  return new Markup(escapers.htmlHref(value));
}

/** A wide table's box: it scrolls sideways on its own (a phone), and takes the keyboard's focus so it can be scrolled without a mouse (WCAG 2.1.1). */
export function scrollBox(label: string, table: Markup): Markup {
  return html`<div class="scroll" tabindex="0" role="region" aria-label="${label}">${table}</div>`;
}
