// A repository of published sites for the publish/pull tests: a copy of the example location_y
// with `signing:` and `publish:` (fresh keys made with ssh-keygen and crypto), committed with git so
// the provenance has a commit; and an in-memory registry (Sink + Source) that counts what it is sent.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { Sink, Source } from '../../src/publish/sink.ts';
import { tempDir } from './tmp.ts';

const repo = resolve(import.meta.dirname, '../..');

export interface PublishedRepo {
  readonly root: string;
  readonly site: string;
  readonly siteName: string;
  readonly publicKey: string;
  readonly publishKey: string;
  /** With `cosign`: the PEM public key (`publish.cosign_public_key`, the tree's publish/cosign.pub). */
  readonly cosignPublicKey?: string;
  /** The secret values the deploy tree holds (for the no-secret checks). */
  readonly secrets: readonly string[];
  commit(message: string): void;
  /** `git revert` the last commit (a later commit). */
  revert(): void;
  /** Install the site's pull.json (as built) into `<base>/etc/pull.json`, edited; returns its path. */
  pullConfig(base: string, edit?: (c: Record<string, unknown>) => void): Promise<string>;
}

/** The committed tree's publish/pull.json of the site, with the test's nginx commands, at `<base>/etc/pull.json`. */
export async function writePullConfig(
  site: string,
  base: string,
  boot: { nginxTest?: string[]; nginxReload?: string[] } | undefined,
  edit: (c: Record<string, unknown>) => void,
): Promise<string> {
  const { compileSite } = await import('../../src/pipeline.ts');
  const compiled = await compileSite(site);
  const a = compiled.artifacts?.find((x) => x.path === 'publish/pull.json');
  if (!a) throw new Error(`no publish/pull.json: ${compiled.diagnostics.map((d) => d.message).join('; ')}`);
  const c = JSON.parse(String(a.contents)) as Record<string, unknown>;
  c.nginx_test = boot?.nginxTest ?? ['true'];
  c.nginx_reload = boot?.nginxReload ?? ['true'];
  edit(c);
  mkdirSync(join(base, 'etc'), { recursive: true });
  const file = join(base, 'etc/pull.json');
  writeFileSync(file, `${JSON.stringify(c, null, 2)}\n`);
  return file;
}

const git = (root: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.net',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.net',
    },
  });

/** The cosign key types harvgen signs with. */
export type CosignKeyType = 'p256' | 'ed25519' | 'rsa';

/** location_y, published to `registry` (`host[:port]/namespace`), in a new git repository. */
export function publishedRepo(
  registry: string,
  opts: {
    fileKey?: boolean;
    label?: string;
    bootServer?: { base: string; nginxTest?: string[]; nginxReload?: string[] };
    /** A cosign key pair (openssl; ECDSA P-256 unless another type): `publish.cosign_key` and `cosign_public_key`. */
    cosign?: boolean | CosignKeyType;
  } = {},
): PublishedRepo {
  const root = tempDir(opts.label ?? 'publish');
  const site = join(root, 'sites/location_y');
  cpSync(join(repo, 'sites/location_y'), site, { recursive: true });
  mkdirSync(join(site, 'secrets'), { recursive: true });
  const token = `tok-${randomBytes(12).toString('hex')}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const fileKey = randomBytes(32).toString('hex');
  const publishKey = randomBytes(32).toString('hex');
  writeFileSync(join(site, 'secrets/token'), `${token}\n`);
  writeFileSync(join(site, 'secrets/password'), `${password}\n`);
  writeFileSync(join(site, 'secrets/file-key'), `${fileKey}\n`, { mode: 0o600 });
  writeFileSync(join(site, 'secrets/publish-key'), `${publishKey}\n`, { mode: 0o600 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'harvgen-test', '-f', join(site, 'secrets/sign')]);
  const publicKey = readFileSync(join(site, 'secrets/sign.pub'), 'utf8').trim();
  let yaml = readFileSync(join(site, 'site.yaml'), 'utf8');
  yaml += `\nsigning:\n  private_key: { file: secrets/sign }\n  public_key: ${publicKey}\npublish:\n  registry: ${registry}\n  key: { file: secrets/publish-key }\n  keep: 3\n`;
  let cosignPublicKey: string | undefined;
  if (opts.cosign) {
    cosignPublicKey = cosignPair(join(site, 'secrets/cosign.key'), opts.cosign === true ? 'p256' : opts.cosign);
    yaml += `  cosign_key: { file: secrets/cosign.key }\n  cosign_public_key: |\n${cosignPublicKey
      .trimEnd()
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}\n`;
  }
  if (opts.fileKey) yaml = yaml.replace(/\nnginx:\n/, '\nnginx:\n  file_key: { file: secrets/file-key }\n');
  if (opts.fileKey && !/file_key/.test(yaml)) yaml += 'nginx:\n  file_key: { file: secrets/file-key }\n';
  const b = opts.bootServer?.base;
  if (b !== undefined) {
    // The boot server's paths inside a test directory: the served link, the versions, the key, the release files.
    yaml = yaml
      .replace('  root: /srv/www/harvgen/location_y', `  root: ${b}/srv/location_y`)
      .replace(
        '  artifacts_dir: /srv/www/harvester-artifacts/v1.6.0',
        `  artifacts_dir: ${b}/srv/artifacts/v1.6.0\n  access_log: ${b}/access.log`,
      )
      .replace('  keep: 3\n', `  keep: 3\n  state_dir: ${b}/state\n  key_file: ${b}/etc/publish.key\n`);
    mkdirSync(join(b, 'etc'), { recursive: true });
    writeFileSync(join(b, 'etc/publish.key'), `${publishKey}\n`, { mode: 0o600 });
  }
  writeFileSync(join(site, 'site.yaml'), yaml);
  writeFileSync(join(root, '.gitignore'), 'sites/*/secrets/\n');
  let commits = 0;
  git(root, 'init', '-q');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'site');
  return {
    root,
    site,
    siteName: 'location_y',
    pullConfig: (base: string, edit: (c: Record<string, unknown>) => void = () => {}) => writePullConfig(site, base, opts.bootServer, edit),
    publicKey,
    publishKey,
    ...(cosignPublicKey !== undefined ? { cosignPublicKey } : {}),
    secrets: [token, password, fileKey, publishKey],
    commit: (message: string) => {
      git(root, 'add', '-A');
      later(root, ++commits, ['commit', '-q', '--allow-empty', '-m', message]);
    },
    revert: () => later(root, ++commits, ['revert', '--no-edit', 'HEAD']),
  };
}

/** A git command whose commit is `n` seconds after a fixed time (the provenance's serial is the commit time). */
function later(root: string, n: number, args: string[]): void {
  const t = `@${1_800_000_000 + n} +0000`;
  execFileSync('git', args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.net',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.net',
      GIT_COMMITTER_DATE: t,
      GIT_AUTHOR_DATE: t,
    },
  });
}

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An in-memory registry: repositories of blobs, manifests and tags, with counters. */
/** A registry that logs each call as `<repository> <method>`, in order. */
export function loggedRegistry(reg: MemoryRegistry) {
  const calls: string[] = [];
  const sinkFor = (repository: string) => {
    const s = reg.sink(repository);
    return new Proxy(s, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (...a: unknown[]) => (calls.push(`${repository} ${String(prop)}`), v.apply(target, a)) : v;
      },
    });
  };
  return { calls, sinkFor };
}

export class MemoryRegistry {
  readonly blobs = new Map<string, Map<string, Buffer>>();
  readonly manifests = new Map<string, Map<string, Buffer>>();
  readonly tags = new Map<string, Map<string, string>>();
  uploads = 0;
  uploadedBytes = 0;

  #repo<T>(m: Map<string, Map<string, T>>, r: string): Map<string, T> {
    let x = m.get(r);
    if (!x) m.set(r, (x = new Map()));
    return x;
  }

  sink(repository: string): Sink & Source {
    const blobs = this.#repo(this.blobs, repository);
    const manifests = this.#repo(this.manifests, repository);
    const tags = this.#repo(this.tags, repository);
    const self = this;
    return {
      name: repository,
      async hasBlob(d) {
        return blobs.has(d);
      },
      async putBlob(d, bytes) {
        if (digestOf(bytes) !== d) throw new Error(`digest mismatch ${d}`);
        if (blobs.has(d)) return;
        self.uploads++;
        self.uploadedBytes += bytes.length;
        blobs.set(d, bytes);
      },
      async putBlobFile(d, path) {
        await this.putBlob(d, readFileSync(path));
      },
      async mountBlob(d, from) {
        const b = self.blobs.get(from)?.get(d);
        if (!b) return false;
        blobs.set(d, b);
        return true;
      },
      async hasManifest(d) {
        return manifests.has(d);
      },
      async putManifest(ref, _mt, bytes) {
        const d = digestOf(bytes);
        if (ref.startsWith('sha256:')) {
          if (ref !== d) throw new Error('manifest digest mismatch');
          if (!manifests.has(d)) {
            self.uploads++;
            self.uploadedBytes += bytes.length;
          }
        } else {
          // A PUT by tag sends the whole manifest, as a registry needs it.
          self.uploads++;
          self.uploadedBytes += bytes.length;
          tags.set(ref, d);
        }
        manifests.set(d, bytes);
      },
      async resolveTag(tag) {
        return tags.get(tag);
      },
      async readTag(tag) {
        const d = tags.get(tag);
        return d === undefined ? undefined : manifests.get(d);
      },
      async getManifest(d) {
        const b = manifests.get(d);
        if (!b) throw new Error(`manifest ${d} not found`);
        if (digestOf(b) !== d) throw new Error(`manifest ${d}: digest mismatch`);
        return b;
      },
      async getBlob(d) {
        const b = blobs.get(d);
        if (!b) throw new Error(`blob ${d} not found`);
        if (digestOf(b) !== d) throw new Error(`blob ${d}: digest mismatch`);
        return b;
      },
      async streamBlob(d) {
        const b = blobs.get(d);
        if (!b) throw new Error(`blob ${d} not found`);
        return Readable.from([b]);
      },
    };
  }
}

/** Fake release files of `version` (default v1.6.0: the names location_y serves) and their SHA-512 list, in `<dir>/<version>/`; returns `dir`. */
export function fakeReleases(dir: string, version = 'v1.6.0'): string {
  const v = join(dir, version);
  mkdirSync(v, { recursive: true });
  const names = [
    `harvester-${version}-vmlinuz-amd64`,
    `harvester-${version}-initrd-amd64`,
    `harvester-${version}-rootfs-amd64.squashfs`,
    `harvester-${version}-amd64.iso`,
  ];
  const lines: string[] = [];
  for (const n of names) {
    const bytes = Buffer.from(`fake ${n}\n`.repeat(100));
    writeFileSync(join(v, n), bytes);
    lines.push(`${createHash('sha512').update(bytes).digest('hex')}  ${n}`);
  }
  writeFileSync(join(v, `harvester-${version}-amd64.sha512`), `${lines.join('\n')}\n`);
  return dir;
}

/** A key pair made with openssl (ECDSA P-256, Ed25519 or RSA 2048): the private key (PKCS#8 PEM) written to `file`; returns the public key's PEM. */
export function cosignPair(file: string, type: CosignKeyType = 'p256'): string {
  if (type === 'ed25519') execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', file]);
  else if (type === 'rsa')
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file], { stdio: 'pipe' });
  else {
    const ec = execFileSync('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout']);
    execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-out', file], { input: ec });
  }
  chmodSync(file, 0o600); // a private key: its owner's only (harvgen warns of one others can read)
  return execFileSync('openssl', ['pkey', '-in', file, '-pubout'], { encoding: 'utf8' });
}

/** Plan an upgrade in the published copy of location_y (v1.6.0 -> v1.6.1, with apply), committed: its tree then has a cluster side. */
export function planUpgrade(repo: PublishedRepo): void {
  const yaml = join(repo.site, 'site.yaml');
  writeFileSync(
    yaml,
    readFileSync(yaml, 'utf8').replace(
      '  artifacts: http://10.20.0.5:8080/artifacts/v1.6.0\n',
      `  artifacts: http://10.20.0.5:8080/artifacts/v1.6.0\n  upgrade:\n    to: v1.6.1\n    iso_checksum: ${'ab'.repeat(64)}\n    release_date: '20260915'\n    apply: true\n`,
    ),
  );
  repo.commit('plan an upgrade');
}
