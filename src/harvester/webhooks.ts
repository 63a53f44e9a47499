// Installer webhooks (`install.webhooks`) as the installer prepares them before an install
// (harvester-installer pkg/console/webhooks.go, one blob from v1.2.0 to v1.8.1 and v1.9's
// development tags): the event must be one of three (exact case), the method is upper-cased and
// must be an HTTP method (none given is none: there is no default), and `url` and `payload` are
// parsed and executed as Go text/template (no functions added, missingkey=zero) with the
// context Hostname, MACAddr, IPAddrV4, IPAddrV6. One webhook that fails makes the installer drop
// them all (install_panels.go logs it and installs without webhooks).
//
// harvgen does not reimplement Go's template language: it accepts the subset that webhooks
// need and refuses the rest, so that every template it passes parses and executes in Go.
// Accepted: plain text, `{{.Hostname}}`, `{{.MACAddr}}`, `{{.IPAddrV4}}`, `{{.IPAddrV6}}`
// (spaces inside the braces and Go's trim markers `{{- ` and ` -}}` allowed) and comments
// `{{/* ... */}}`. Anything else inside `{{ }}` (pipelines, functions, `if`, `range`, other
// fields, which Go renders empty) is refused with its position.

/** The installer's events (IsValidEvent, case-sensitive). */
export const WEBHOOK_EVENTS = ['STARTED', 'SUCCEEDED', 'FAILED'] as const;

/** net/http's method names (IsValidHTTPMethod), compared after strings.ToUpper. */
export const WEBHOOK_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE'] as const;

/** The fields of the installer's template context (getWebhookContext). */
export const WEBHOOK_FIELDS = ['Hostname', 'MACAddr', 'IPAddrV4', 'IPAddrV6'] as const;

/** One problem of one webhook: the key it is at and what is wrong. */
export interface WebhookProblem {
  readonly key: 'event' | 'method' | 'url' | 'payload';
  readonly message: string;
}

/** What is wrong with one webhook as the installer prepares it, or undefined. */
export function webhookProblem(hook: unknown): WebhookProblem | undefined {
  // Not a map, or no `event` or `url`: the installer schema's to report (HARVESTER_CONFIG_INVALID at render).
  if (hook === null || typeof hook !== 'object' || Array.isArray(hook)) return undefined;
  const h = hook as Record<string, unknown>;
  if (typeof h.event === 'string' && !(WEBHOOK_EVENTS as readonly string[]).includes(h.event)) {
    const upper = h.event.toUpperCase();
    return {
      key: 'event',
      message: `event "${h.event}" is not one of ${WEBHOOK_EVENTS.join(', ')}${(WEBHOOK_EVENTS as readonly string[]).includes(upper) ? ` (the installer compares the case: write ${upper})` : ''}`,
    };
  }
  if (h.method === undefined || h.method === '')
    return { key: 'method', message: 'it has no `method` (the installer has no default: write GET or POST)' };
  if (typeof h.method === 'string' && !(WEBHOOK_METHODS as readonly string[]).includes(h.method.toUpperCase()))
    return { key: 'method', message: `method "${h.method}" is not an HTTP method (${WEBHOOK_METHODS.join(', ')})` };
  for (const key of ['url', 'payload'] as const) {
    const v = h[key];
    if (typeof v !== 'string') continue;
    const problem = templateProblem(v);
    if (problem !== undefined) return { key, message: `its ${key} ${problem}` };
  }
  return undefined;
}

/** Why `text` is outside the template subset (with the 1-based character it starts at), or undefined. */
export function templateProblem(text: string): string | undefined {
  let i = 0;
  for (;;) {
    const open = text.indexOf('{{', i);
    if (open < 0) return undefined;
    const close = text.indexOf('}}', open + 2);
    if (close < 0) return `opens an action at character ${open + 1} that is never closed with }} (Go cannot parse it)`;
    let inner = text.slice(open + 2, close);
    // Go's trim markers: "{{- " and " -}}" (the space is part of the marker).
    if (/^-[ \t\r\n]/.test(inner)) inner = inner.slice(2);
    if (/[ \t\r\n]-$/.test(inner)) inner = inner.slice(0, -2);
    const action = `{{${text.slice(open + 2, close)}}}`;
    // A comment ends at its first `*/` (Go's lexComment), which must be the action's end.
    if (/^\/\*(?:(?!\*\/)[\s\S])*\*\/$/.test(inner)) {
      i = close + 2;
      continue;
    }
    const field = /^[ \t\r\n]*\.([A-Za-z0-9_]+)[ \t\r\n]*$/.exec(inner)?.[1];
    if (field === undefined)
      return `has ${action} at character ${open + 1}, which harvgen does not accept: only ${WEBHOOK_FIELDS.map((f) => `{{.${f}}}`).join(', ')} and {{/* comments */}}`;
    if (!(WEBHOOK_FIELDS as readonly string[]).includes(field)) {
      const near = WEBHOOK_FIELDS.find((f) => f.toLowerCase() === field.toLowerCase());
      return `has ${action} at character ${open + 1}: the installer knows no field ${field} (Go renders it empty)${near ? `; did you mean {{.${near}}}?` : `: use ${WEBHOOK_FIELDS.map((f) => `.${f}`).join(', ')}`}`;
    }
    i = close + 2;
  }
}
