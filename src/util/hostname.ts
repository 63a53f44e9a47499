/** A node's hostname: one DNS label, lowercase (RFC 1123), as the installer and the inventory take it. */
export const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
