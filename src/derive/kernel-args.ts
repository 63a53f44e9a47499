// Kernel command lines as words: what every kind's command line and its checks share.

/** The key of a kernel argument: the text before the first `=`. */
export function kernelArgKey(arg: string): string {
  const i = arg.indexOf('=');
  return i < 0 ? arg : arg.slice(0, i);
}
