// The report's data types (src/page/).

/** One file of the report: its path under the output directory and its text. */
export interface PageFile {
  readonly path: string;
  readonly contents: string;
}
