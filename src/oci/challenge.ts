/**
 * Answering a registry's 401: its `WWW-Authenticate` challenge parsed, Basic credentials sent up
 * front once the registry asked for them, the Bearer token flow (the realm asked for a token with
 * the scopes, Basic credentials to the realm only, the token cached per scope). A realm that is not
 * HTTPS is refused unless the client talks plain HTTP anyway (`insecure`): credentials and tokens
 * never cross the network in cleartext from an HTTPS registry. A realm on another host than the
 * registry is used, and warned about once per host.
 */
import { findCredentials, type Credentials } from './auth.ts';
import { readBody } from './body.ts';
import { errorCodes, RegistryError, safeUrl, type Answer } from './errors.ts';
import type { RegistryOptions } from './options.ts';
import type { Transport } from './transport.ts';

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse `Bearer realm="...",service="...",scope="..."` (or Basic). */
export function parseChallenge(value: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(value);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2]!)) !== null) {
    if (p[0] === '') break;
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

/** The token scope to read a repository. */
export function pullScope(repo: string): string {
  return `repository:${repo}:pull`;
}

/** The token scope to write a repository. */
export function pushScope(repo: string): string {
  return `repository:${repo}:pull,push`;
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(' ');
}

function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

/** The credentials and tokens of one client, and how it answers a challenge. */
export class Authenticator {
  private creds: Credentials | null | undefined;
  private credsTried: readonly string[] = [];
  private readonly tokens = new Map<string, string>();
  /** The scheme the registry asked for last (Basic sends credentials up front afterwards). */
  private basic = false;
  private readonly warnedHosts = new Set<string>();

  constructor(
    private readonly options: RegistryOptions,
    private readonly transport: Transport,
    private readonly warn: (message: string) => void,
  ) {
    this.creds = options.credentials;
    if (options.credentials !== undefined) this.credsTried = [options.credentials ? options.credentials.source : 'anonymous'];
  }

  private get registry(): string {
    return this.options.registry;
  }

  /** The Authorization to send up front for these scopes, if any is known. */
  header(scopes: readonly string[]): string | undefined {
    const token = this.tokens.get(scopeKey(scopes));
    if (token) return `Bearer ${token}`;
    if (this.basic && this.creds) return basicHeader(this.creds);
    return undefined;
  }

  /** The Authorization that answers a 401's challenge (fetching a token for Bearer). */
  async answer(wwwAuthenticate: string | undefined, scopes: readonly string[], url: string): Promise<string> {
    const challenge = parseChallenge(wwwAuthenticate ?? '');
    const creds = await this.credentials();
    if (!challenge)
      throw new RegistryError(`${this.registry} answered 401 without a WWW-Authenticate challenge (${url})`, 'auth', url, 401);
    if (challenge.scheme === 'basic') {
      if (!creds) throw this.noCredentials(url);
      this.basic = true;
      return basicHeader(creds);
    }
    if (challenge.scheme !== 'bearer')
      throw new RegistryError(
        `${this.registry} asks for "${challenge.scheme}" authentication, which harvgen does not speak (Basic and Bearer only)`,
        'auth',
        url,
        401,
      );
    const token = await this.fetchToken(this.tokenUrl(challenge, scopes, url), creds);
    this.tokens.set(scopeKey(scopes), token);
    return `Bearer ${token}`;
  }

  /** The realm's URL with service and scopes, once it passes the rules on realms. */
  private tokenUrl(challenge: Challenge, scopes: readonly string[], url: string): URL {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`${this.registry}'s Bearer challenge names no realm`, 'auth', url, 401);
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(realm);
    } catch {
      throw new RegistryError(`${this.registry}'s Bearer challenge names a realm that is not a URL`, 'auth', url, 401);
    }
    const shown = safeUrl(tokenUrl);
    if (tokenUrl.protocol !== 'https:' && !(this.options.insecure && tokenUrl.protocol === 'http:'))
      throw new RegistryError(
        `${this.registry} sends harvgen for a token to ${shown}, which is not HTTPS; refused: credentials and tokens would cross ` +
          'the network in cleartext. Have the registry name an HTTPS token service (its auth.token.realm)',
        'auth',
        url,
        401,
      );
    if (tokenUrl.host !== this.transport.host && !this.warnedHosts.has(tokenUrl.host)) {
      this.warnedHosts.add(tokenUrl.host);
      this.warn(
        `${this.registry} sends harvgen for its tokens to ${tokenUrl.host}, another host than the registry` +
          `${this.creds ? `, with the credentials of user "${this.creds.username}"` : ''}: check that ${shown} is the registry's own token service`,
      );
    }
    const all = [...new Set([...scopes, ...(challenge.params.scope ? challenge.params.scope.split(' ') : [])])].sort();
    if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
    for (const s of all) tokenUrl.searchParams.append('scope', s);
    return tokenUrl;
  }

  private async fetchToken(tokenUrl: URL, creds: Credentials | null): Promise<string> {
    const a = await this.transport.sendRaw('GET', tokenUrl, creds ? { authorization: basicHeader(creds) } : {}, undefined);
    const shown = safeUrl(tokenUrl);
    const body = await readBody(a.res, 1024 * 1024, shown);
    if (a.status === 401 || a.status === 403) throw this.authError({ status: a.status, headers: a.headers, body, url: shown });
    if (a.status !== 200)
      throw new RegistryError(`the token service ${shown} answered ${a.status}`, 'auth', shown, a.status, errorCodes(body));
    let doc: { token?: unknown; access_token?: unknown };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      throw new RegistryError(`the token service ${shown} did not answer JSON`, 'auth', shown, a.status);
    }
    const token = typeof doc.token === 'string' ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : undefined;
    if (!token) throw new RegistryError(`the token service ${shown} gave no token`, 'auth', shown, a.status);
    return token;
  }

  private async credentials(): Promise<Credentials | null> {
    if (this.creds !== undefined) return this.creds;
    const found = await findCredentials(this.registry, { env: this.options.env });
    this.credsTried = found.tried;
    this.creds = found.credentials ?? null;
    return this.creds;
  }

  private noCredentials(url: string): RegistryError {
    return new RegistryError(
      `${this.registry} asks for credentials and none were found (tried: ${this.credsTried.join(', ') || 'nothing'}). ` +
        `Log in with \`podman login ${this.registry}\`, \`skopeo login ${this.registry}\` or \`docker login ${this.registry}\`, ` +
        'or set HARVGEN_REGISTRY_USERNAME and HARVGEN_REGISTRY_PASSWORD',
      'auth',
      url,
      401,
    );
  }

  /** A 401 or 403: no credentials, or these were not accepted. */
  authError(a: Answer): RegistryError {
    if (!this.creds) return this.noCredentials(a.url);
    const codes = errorCodes(a.body);
    const what = a.status === 403 ? 'refused access for' : 'did not accept';
    return new RegistryError(
      `${this.registry} ${what} the credentials of user "${this.creds.username}" from ${this.creds.source} (HTTP ${a.status}${codes.length ? ` ${codes.join(', ')}` : ''}). ` +
        `Check the password (log in again) and that this account may read and write this repository${this.credsTried.length > 1 ? ` (sources tried: ${this.credsTried.join(', ')})` : ''}`,
      'auth',
      a.url,
      a.status,
      codes,
    );
  }
}
