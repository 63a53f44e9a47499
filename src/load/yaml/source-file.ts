// A parsed inventory file as the rest of harvgen sees it: its text and, for positions, its yaml
// Document and LineCounter. A clean file keeps only its text and parses again on first use.
import { LineCounter, parseAllDocuments, type Document } from 'yaml';

/**
 * The options of every parse of an inventory text: the first one and the lazy one for positions,
 * which must build the same Document. `uniqueKeys` is off because scan.ts compares keys itself.
 */
export const PARSE_OPTIONS = { uniqueKeys: false, strict: true, prettyErrors: false } as const;

/** A parsed inventory file. */
export interface SourceFile {
  /** Path as shown in diagnostics. */
  readonly path: string;
  readonly absPath: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

/**
 * A SourceFile whose Document and LineCounter are parsed on first use (the text parsed cleanly
 * once). A class, not an object literal with getters and closures: a site holds one per node file
 * for the whole build, and the literal took about 600 bytes each (README "Speed II").
 */
class LazySourceFile implements SourceFile {
  #parsed: { doc: Document.Parsed; lineCounter: LineCounter } | undefined;
  constructor(
    readonly path: string,
    readonly absPath: string,
    readonly text: string,
  ) {}
  #parse(): { doc: Document.Parsed; lineCounter: LineCounter } {
    if (this.#parsed) return this.#parsed;
    const lineCounter = new LineCounter();
    const doc = parseAllDocuments(this.text, { lineCounter, ...PARSE_OPTIONS }) as Document.Parsed[];
    this.#parsed = { doc: doc[0]!, lineCounter };
    return this.#parsed;
  }
  get doc(): Document.Parsed {
    return this.#parse().doc;
  }
  get lineCounter(): LineCounter {
    return this.#parse().lineCounter;
  }
}

/** A SourceFile whose Document and LineCounter are parsed on first use (the text parsed cleanly once). */
export function lazySourceFile(path: string, absPath: string, text: string): SourceFile {
  return new LazySourceFile(path, absPath, text);
}
