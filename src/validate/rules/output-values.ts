// Values whose fit to their file needs more than a pattern: the forward listen address is an
// IPv4 address (socat would read anything else as more of its own address syntax), and each
// installer kernel command line must fit the kernel's limit (x86 COMMAND_LINE_SIZE is 2048
// bytes with the final NUL; longer lines are cut silently, dropping harvgen's own arguments).
import { bootImages } from '../../derive/boot-images.ts';
import { parseIpv4 } from '../../util/ipv4.ts';
import { eachNode, notIpv4, type Rule } from '../rule.ts';

/** Longest kernel command line the installer can be given (bytes, without the NUL). */
export const MAX_CMDLINE = 2047;

/** `forward.listen_address` is an IPv4 address; every installer command line fits the kernel. */
export const outputValuesRule: Rule = {
  name: 'output-values',
  codes: ['NET_IP_INVALID', 'NODE_CMDLINE_TOO_LONG'],
  check(ctx) {
    const { input, model, report } = ctx;
    const listen = input.forward?.listen_address;
    if (listen !== undefined && parseIpv4(listen) === undefined) {
      notIpv4(report, {
        what: 'forward.listen_address',
        value: listen,
        hint: 'Write a dotted quad such as 192.168.1.10, or leave it out to listen on all addresses.',
        at: ['forward', 'listen_address'],
      });
    }
    eachNode(ctx, 'output-values', (node, report) => {
      for (const mac of node.macs) {
        // A node that boots its disk or an iSCSI target has no kernel command line.
        const images = bootImages(model, node, mac);
        if (images === undefined) break;
        const length = Buffer.byteLength(images.args.join(' '));
        if (length <= MAX_CMDLINE) continue;
        report({
          code: 'NODE_CMDLINE_TOO_LONG',
          node: node.hostname,
          message: `the installer command line of node ${node.hostname} (NIC ${mac}) is ${length} bytes; the kernel keeps only ${MAX_CMDLINE}`,
          hint: 'Shorten `kernel_args` (node or `boot.kernel_args`) or the URLs (`boot.server`, `harvester.artifacts`); the kernel would silently cut the end.',
          at:
            (node.boot === 'harvester' ? node.sources.kernel_args : undefined) ??
            (input.boot.kernel_args ? ['boot', 'kernel_args'] : ['nodes', node.index]),
          target: 'key',
        });
        break;
      }
    });
  },
};
