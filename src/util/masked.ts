// The values a compiled site masks in what it prints, as a value that cannot leak by being
// serialized or logged. Here, below the pipeline, so that build can make the empty one of a site
// it did not compile without loading the compiler.

/**
 * The values a site masks in everything it prints: its secrets (resolved, inline, under `config:`
 * of any layer) and the secrets as written in its files, in every form (`secretForms`). A field of
 * the site, so it goes wherever the site goes (spreads, copies); never serialized: JSON.stringify
 * leaves the field out (`toJSON`), and util.inspect (console.log) shows only how many there are.
 */
export class MaskedValues {
  readonly #values: readonly string[];
  constructor(values: readonly string[]) {
    this.#values = values;
  }
  /** The values, to mask text with (never to print). */
  get values(): readonly string[] {
    return this.#values;
  }
  toJSON(): undefined {
    return undefined;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `MaskedValues(${this.#values.length})`;
  }
}

/** No value to mask (a site that was not compiled, or has no secret). */
export const NOTHING_MASKED = new MaskedValues([]);
