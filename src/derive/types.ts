// The data types of the derived facts that more than one file of src/derive/ returns.

/** What iPXE loads for one boot MAC of a node that boots a kernel. */
export interface BootImages {
  readonly kernel: string;
  readonly initrds: readonly { readonly name: string; readonly url: string }[];
  readonly args: readonly string[];
}
