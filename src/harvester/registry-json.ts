// The `containerd-registry` setting as the installer decodes it: checkSystemSettings
// (pkg/console/validator.go, v1.3 to v1.8; pkg/installer/console/validator.go in v1.9) runs
// `json.NewDecoder(strings.NewReader(value)).Decode(&r)` into wharfie's `registries.Registry`
// (v0.6.5/v0.6.8, pkg/registries/types.go). Go reads the first JSON value only (anything after a
// closing `}` or `]` is left unread), matches field names in any case, ignores unknown fields,
// takes `null` anywhere, and fails on a value of the wrong JSON type.

type Shape = 'string' | 'bool' | { list: Shape } | { map: Shape } | { struct: Record<string, Shape> };

const AUTH: Shape = { struct: { username: 'string', password: 'string', auth: 'string', identitytoken: 'string' } };
const TLS: Shape = { struct: { ca_file: 'string', cert_file: 'string', key_file: 'string', insecure_skip_verify: 'bool' } };
const REGISTRY: Shape = {
  struct: {
    mirrors: { map: { struct: { endpoint: { list: 'string' }, rewrite: { map: 'string' } } } },
    configs: { map: { struct: { auth: AUTH, tls: TLS } } },
    auths: { map: AUTH },
  },
};

/** Why the installer's decoder refuses `text`, or undefined when it takes it. */
export function registryJsonProblem(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(firstValue(text));
  } catch (e) {
    return e instanceof Error && e.message !== '' ? e.message : 'not JSON';
  }
  return shapeProblem(value, REGISTRY, 'the value');
}

/** The text of the first JSON value when it is an object or an array (Go stops at its end), else all of it. */
function firstValue(text: string): string {
  const start = text.search(/[^ \t\r\n]/);
  if (start < 0 || (text[start] !== '{' && text[start] !== '[')) return text;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return text.slice(start, i + 1);
  }
  return text;
}

function shapeProblem(value: unknown, shape: Shape, where: string): string | undefined {
  if (value === null) return undefined;
  if (shape === 'string' || shape === 'bool') {
    const want = shape === 'string' ? 'string' : 'boolean';
    return typeof value === want ? undefined : `${where} must be a ${want}`;
  }
  if ('list' in shape) {
    if (!Array.isArray(value)) return `${where} must be a list`;
    for (const [i, v] of value.entries()) {
      const p = shapeProblem(v, shape.list, `${where}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return `${where} must be an object`;
  for (const [k, v] of Object.entries(value)) {
    const field = 'map' in shape ? shape.map : shape.struct[k.toLowerCase()];
    const p = field === undefined ? undefined : shapeProblem(v, field, `${where === 'the value' ? '' : `${where}.`}${k}`);
    if (p) return p;
  }
  return undefined;
}
