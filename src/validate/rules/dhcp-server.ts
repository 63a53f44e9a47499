// `dhcp:`: Kea and ISC dhcpd send firmware PXE to a TFTP server by address (`next-server`, the
// siaddr field), which is `dhcp.next_server` or the host of `boot.server` when that is an address.
// dnsmasq is its own TFTP server and needs neither.
import { parseIpv4 } from '../../util/ipv4.ts';
import { notIpv4, type Rule } from '../rule.ts';
import { bootClasses, ipxeHostBootFile } from '../../derive/dhcp-boot.ts';
import { dhcpServerOf } from '../../derive/dhcp-servers/index.ts';

/** `dhcp.next_server` is an IPv4 address, and Kea and ISC sites have one. */
export const dhcpServerRule: Rule = {
  name: 'dhcp-server',
  codes: ['NET_IP_INVALID', 'NET_NEXT_SERVER_MISSING', 'DHCP_FORM_CONFLICT', 'DHCP_BOOT_FILE_TOO_LONG'],
  check({ input, model, report }) {
    const server = dhcpServerOf(model);
    if (!server.proxy && input.dnsmasq?.mode === 'proxy') {
      report({
        code: 'DHCP_FORM_CONFLICT',
        message: `dnsmasq.mode: proxy is a dnsmasq form, but dhcp.server is ${model.dhcp.server}: no dnsmasq file is written`,
        hint: `Choose one: \`dhcp.server: ${model.dhcp.server}\` (harvgen writes its config; remove dnsmasq.mode), or proxy DHCP beside your server (\`dhcp.server: dnsmasq\` with \`dnsmasq.mode: proxy\`).`,
        at: ['dnsmasq', 'mode'],
        target: 'value',
      });
    }
    const max = server.bootFileMax;
    if (max !== undefined) {
      // Kea puts boot-file-name in the BOOTP file field and refuses more than 127 bytes (kea-dhcp4 -t).
      const files = [
        ...bootClasses(model).map((c) => c.file),
        ...model.nodes.flatMap((n) => n.macs.map((m) => ipxeHostBootFile(model, m) ?? '')),
      ];
      const longest = files.reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a), '');
      if (Buffer.byteLength(longest) > max) {
        report({
          code: 'DHCP_BOOT_FILE_TOO_LONG',
          message: `the boot file URL ${longest} is ${Buffer.byteLength(longest)} bytes long; ${server.title}'s boot file name (the BOOTP file field) holds at most ${max}`,
          hint: `Shorten boot.server (its path prefix, or a shorter host name)${model.nginx.fileKey !== undefined ? ': with nginx.file_key a script URL is 61 characters longer than boot.server' : ''}.`,
          at: ['boot', 'server'],
          target: 'value',
        });
      }
    }
    const given = input.dhcp?.next_server;
    if (given !== undefined && parseIpv4(given) === undefined) {
      notIpv4(report, {
        what: 'dhcp.next_server',
        value: given,
        hint: 'Write the TFTP server as a dotted quad, e.g. 192.168.122.1 (the siaddr field holds an address, not a name).',
        at: ['dhcp', 'next_server'],
        target: 'value',
      });
      return;
    }
    // next-server is DHCPv4's (DHCPv6 names the TFTP server in the boot file URL).
    if (server.tftp || model.dhcp.nextServer !== undefined || !model.network.ipv4) return;
    report({
      code: 'NET_NEXT_SERVER_MISSING',
      message: `dhcp.server ${model.dhcp.server} needs the address of the TFTP server that gives firmware PXE its iPXE, and boot.server's host "${model.boot.host}" is a name`,
      hint: 'Set `dhcp.next_server` to the address of the TFTP server holding undionly.kpxe and the UEFI loader (`harvgen help deploy`, "Choosing a DHCP form").',
      at: input.dhcp?.server !== undefined ? ['dhcp', 'server'] : ['dhcp'],
      target: 'value',
    });
  },
};
