/**
 * A distribution (registry v2) client for one repository: manifests and blobs, pulled with their digests
 * checked and pushed monolithically. Over HTTPS; a registry marked insecure (localhost by default, as in Docker)
 * falls back to plain HTTP when HTTPS cannot connect. A 401 is answered once with the registry's challenge:
 * Basic credentials, or a token from its Bearer realm (anonymous, with the user's password, or with an identity
 * token from `docker login`).
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as Undici from 'undici';
import type { Dispatcher } from 'undici';
import {
  type BerthError,
  ForbiddenError,
  InvalidParameterError,
  NotFoundError,
  SystemError,
  UnauthorizedError,
  UnavailableError,
} from '../errdefs/index.ts';
import { basicAuthorization, type Challenge, parseChallenges, type RegistryAuth } from './auth.ts';
import { sha256, verifyDigest } from './digest.ts';
import { apiHost } from './reference.ts';

// undici loads with the first registry request (pull, push, install): an idle berthd makes none.
const requireOnUse = createRequire(import.meta.url);
const undici = (): typeof Undici => requireOnUse('undici') as typeof Undici;

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  pluginConfig: 'application/vnd.docker.plugin.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export interface RegistryClientOptions {
  /** Registry domain as written in references (`docker.io`, `localhost:5000`). */
  readonly domain: string;
  /** Repository inside the registry (`library/x`). */
  readonly path: string;
  /** `pull` or `pull,push`: the token scope asked for. */
  readonly actions: 'pull' | 'pull,push';
  readonly auth?: RegistryAuth | undefined;
  /** Plain HTTP allowed when HTTPS cannot connect. */
  readonly insecure: boolean;
  /** Called with the reason when an insecure registry is reached over plain HTTP. */
  readonly onPlainHttp?: (message: string) => void;
  readonly timeoutMs?: number;
  /** For tests: a dispatcher (TLS settings, a proxy). */
  readonly dispatcher?: Dispatcher;
}

/** What an upload sends, which can be sent again after a 401: bytes, or a file, read again from the start. */
export type UploadBody = Buffer | { readonly file: string; readonly size: number; readonly onRead?: OnRead };
type OnRead = (bytes: number) => void;

/** A file as an upload's body, each piece read told to `onRead`. A read error destroys it, failing the request. */
function uploadStream(file: string, onRead: OnRead | undefined): Readable {
  if (!onRead) return createReadStream(file);
  const counted = new Transform({
    transform(chunk: Buffer, _enc, done) {
      onRead(chunk.length);
      done(null, chunk);
    },
  });
  pipeline(createReadStream(file), counted).catch(() => {});
  return counted;
}

interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Dispatcher.ResponseData['body'];
}

const response = (r: Dispatcher.ResponseData): Response => ({
  status: r.statusCode,
  headers: r.headers,
  body: r.body,
});

const header = (r: Response, name: string): string | undefined => {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The registry's `{"errors":[{code,message}]}` as one line, or the raw text. */
async function errorText(r: Response): Promise<string> {
  const text = await r.body.text().catch(() => '');
  try {
    const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors;
    if (Array.isArray(errors) && errors.length) {
      return errors
        .map((e) => `${(e.code ?? 'error').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`)
        .join('; ');
    }
  } catch {
    // not JSON
  }
  return (
    text.trim().slice(0, 300) ||
    (r.status === 401 ? 'unauthorized: authentication required' : `HTTP ${r.status}`)
  );
}

/** Redirects a GET or HEAD may take (Go's net/http, which dockerd uses, stops after 10). */
const MAX_REDIRECTS = 10;
let sharedAgent: Dispatcher | undefined;

export class RegistryClient {
  readonly #o: RegistryClientOptions;
  #base: string | undefined;
  #authorization: string | undefined;
  #redirecting: Dispatcher | undefined;

  constructor(options: RegistryClientOptions) {
    this.#o = options;
  }

  get repository(): string {
    return `${this.#o.domain}/${this.#o.path}`;
  }

  /**
   * Checks that the registry answers and accepts the credentials (`docker login`): `GET /v2/`, authorized
   * through its challenge.
   * @throws {UnauthorizedError} for refused credentials; {UnavailableError} when unreachable
   */
  async ping(): Promise<void> {
    const r = await this.#send('GET', `${await this.#resolveBase()}/v2/`);
    await r.body.dump();
    if (r.status === 401) {
      throw new UnauthorizedError(
        `login to ${this.#o.domain} failed: the registry answered 401 Unauthorized`,
      );
    }
    if (r.status !== 200)
      throw new UnavailableError(`registry ${this.#o.domain} answered ${r.status} to GET /v2/`);
  }

  /** Fetches a manifest by tag or digest, checking a digest reference against the bytes. */
  async manifest(
    ref: string,
    accept: readonly string[],
  ): Promise<{ mediaType: string; bytes: Buffer; digest: string }> {
    const r = await this.#send('GET', `manifests/${ref}`, { headers: { accept: accept.join(', ') } });
    if (r.status !== 200) throw await this.#fail(r, `manifest for ${this.repository}:${ref}`);
    const bytes = Buffer.from(await r.body.arrayBuffer());
    const digest = sha256(bytes);
    if (ref.startsWith('sha256:') && ref !== digest) {
      throw new InvalidParameterError(
        `manifest ${ref} of ${this.repository} failed verification: it hashes to ${digest}`,
      );
    }
    const mediaType = (header(r, 'content-type') ?? '').split(';')[0]?.trim() ?? '';
    return { mediaType, bytes, digest };
  }

  /** A blob as a stream that errors unless it matches its digest (and size, when given). */
  async blob(digest: string, size?: number): Promise<Readable> {
    const r = await this.#send('GET', `blobs/${digest}`);
    if (r.status !== 200) throw await this.#fail(r, `blob ${digest} of ${this.repository}`);
    const verified = verifyDigest(digest, size);
    // pipeline, not pipe: a dropped connection must fail the consumer, not leave it waiting
    pipeline(r.body, verified).catch(() => {});
    return verified;
  }

  async hasBlob(digest: string): Promise<boolean> {
    const r = await this.#send('HEAD', `blobs/${digest}`);
    if (r.status !== 200 && r.status !== 404)
      throw await this.#fail(r, `blob ${digest} of ${this.repository}`);
    await r.body.dump();
    return r.status === 200;
  }

  /** Uploads a blob in one PUT (POST to start, PUT with the digest to finish). */
  async pushBlob(digest: string, body: UploadBody): Promise<void> {
    const start = await this.#send('POST', 'blobs/uploads/');
    if (start.status !== 202) throw await this.#fail(start, `upload to ${this.repository}`);
    await start.body.dump();
    const location = header(start, 'location');
    if (!location) throw new SystemError(`registry ${this.#o.domain} started an upload without a Location`);
    const url = new URL(location, this.#base);
    url.searchParams.set('digest', digest);
    const size = Buffer.isBuffer(body) ? body.length : body.size;
    const done = await this.#send('PUT', url.toString(), {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
    });
    if (done.status !== 201) throw await this.#fail(done, `upload of ${digest} to ${this.repository}`);
    await done.body.dump();
  }

  /** Stores a manifest under a tag; returns its digest. */
  async pushManifest(tag: string, mediaType: string, bytes: Buffer): Promise<string> {
    const r = await this.#send('PUT', `manifests/${tag}`, {
      headers: { 'content-type': mediaType },
      body: bytes,
    });
    if (r.status !== 201) throw await this.#fail(r, `manifest ${this.repository}:${tag}`);
    await r.body.dump();
    return header(r, 'docker-content-digest') ?? sha256(bytes);
  }

  async #fail(r: Response, what: string): Promise<BerthError> {
    const text = await errorText(r);
    if (r.status === 404) return new NotFoundError(`${what} not found: ${text}`);
    if (r.status === 401) {
      const verb = this.#o.actions === 'pull' ? 'pull' : 'push';
      return new UnauthorizedError(
        `${verb} access denied for ${this.repository}, repository does not exist or may require 'docker login': ${text}`,
      );
    }
    if (r.status === 403) return new ForbiddenError(`${what}: access denied by the registry: ${text}`);
    if (r.status === 400) return new InvalidParameterError(`${what}: the registry refused it: ${text}`);
    return new UnavailableError(`${what}: registry ${this.#o.domain} answered ${r.status}: ${text}`);
  }

  /** Sends a request; on a 401 with a challenge, authorizes once and sends it again. */
  async #send(
    method: Dispatcher.HttpMethod,
    pathOrUrl: string,
    o: { headers?: Record<string, string>; body?: UploadBody } = {},
  ): Promise<Response> {
    const first = await this.#raw(method, pathOrUrl, o);
    if (first.status !== 401) return first;
    const challenges = parseChallenges(first.headers['www-authenticate']);
    const authorization = await this.#authorize(challenges).catch(async (err: unknown) => {
      await first.body.dump();
      throw err;
    });
    if (!authorization || authorization === this.#authorization) return first; // nothing new to try
    await first.body.dump();
    this.#authorization = authorization;
    return this.#raw(method, pathOrUrl, o);
  }

  async #raw(
    method: Dispatcher.HttpMethod,
    pathOrUrl: string,
    o: { headers?: Record<string, string>; body?: UploadBody },
  ): Promise<Response> {
    const base = await this.#resolveBase();
    const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : `${base}/v2/${this.#o.path}/${pathOrUrl}`;
    const headers: Record<string, string> = { 'user-agent': 'berth', ...o.headers };
    if (this.#authorization) headers.authorization = this.#authorization;
    const body =
      o.body === undefined || Buffer.isBuffer(o.body) ? o.body : uploadStream(o.body.file, o.body.onRead);
    try {
      return response(
        await undici().request(url, {
          method,
          headers,
          ...(body !== undefined ? { body } : {}),
          headersTimeout: this.#o.timeoutMs ?? 30_000,
          bodyTimeout: this.#o.timeoutMs ?? 30_000,
          ...(method === 'GET' || method === 'HEAD'
            ? { dispatcher: this.#followingRedirects() }
            : this.#o.dispatcher
              ? { dispatcher: this.#o.dispatcher }
              : {}),
        }),
      );
    } catch (err) {
      throw this.#unreachable(method, url, err);
    }
  }

  /**
   * The dispatcher for GET and HEAD, which follows redirects: a registry may send a blob download to its storage,
   * often on another host (Docker Hub does); undici's `request` follows none by itself. To another origin, undici
   * drops Authorization (and Cookie). Uploads are not redirected: their streamed bodies cannot be sent twice.
   */
  #followingRedirects(): Dispatcher {
    const { Agent, interceptors } = undici();
    // Our own Agent (one per process), not getGlobalDispatcher(): once anything in the process has called
    // fetch(), that is Node's own undici, whose handlers this package's interceptor cannot drive.
    sharedAgent ??= new Agent();
    this.#redirecting ??= (this.#o.dispatcher ?? sharedAgent).compose(
      interceptors.redirect({ maxRedirections: MAX_REDIRECTS }),
    );
    return this.#redirecting;
  }

  #unreachable(method: string, url: string, err: unknown): UnavailableError {
    const e = err as Error & { code?: string; cause?: Error & { code?: string } };
    const why = e.cause?.message ?? e.message ?? String(err);
    // undici's own wording ends with advice about its Agent classes, which is no help to a registry's user.
    const loop = /^Redirect loop detected/.test(why)
      ? `the registry ${this.#o.domain} redirects it in a loop`
      : '';
    return new UnavailableError(`failed to do request: ${method} "${url}": ${loop || why}`);
  }

  /** `https://host`, or `http://host` for an insecure registry that does not speak TLS. */
  async #resolveBase(): Promise<string> {
    if (this.#base) return this.#base;
    const host = apiHost(this.#o.domain);
    const https = `https://${host}`;
    if (!this.#o.insecure) {
      this.#base = https;
      return https;
    }
    try {
      const r = await undici().request(`${https}/v2/`, {
        method: 'GET',
        headersTimeout: 5000,
        bodyTimeout: 5000,
        ...(this.#o.dispatcher ? { dispatcher: this.#o.dispatcher } : {}),
      });
      await r.body.dump();
      this.#base = https;
    } catch (err) {
      this.#base = `http://${host}`;
      const cause = ((err as { cause?: Error }).cause ?? err) as NodeJS.ErrnoException;
      const why = cause.code ?? cause.message.split('\n')[0]; // OpenSSL's messages span lines
      this.#o.onPlainHttp?.(
        `registry ${this.#o.domain} is insecure and does not answer HTTPS (${why}): using plain HTTP`,
      );
    }
    return this.#base;
  }

  async #authorize(challenges: readonly Challenge[]): Promise<string | undefined> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) return this.#token(bearer);
    if (challenges.some((c) => c.scheme === 'basic')) return basicAuthorization(this.#o.auth);
    return undefined;
  }

  /** A token from the Bearer realm for this repository's scope (distribution token spec, OAuth refresh). */
  async #token(challenge: Challenge): Promise<string | undefined> {
    const auth = this.#o.auth;
    if (auth?.registrytoken) return `Bearer ${auth.registrytoken}`;
    const realm = challenge.params.realm;
    if (!realm) return undefined;
    const scope =
      challenge.params.scope ?? (this.#o.path ? `repository:${this.#o.path}:${this.#o.actions}` : '');
    const service = challenge.params.service ?? '';
    let r: Response;
    try {
      if (auth?.identitytoken) {
        const form = new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: auth.identitytoken,
          service,
          client_id: 'berth',
          ...(scope ? { scope } : {}),
        });
        r = response(
          await undici().request(realm, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: form.toString(),
            headersTimeout: 30_000,
            ...(this.#o.dispatcher ? { dispatcher: this.#o.dispatcher } : {}),
          }),
        );
      } else {
        const url = new URL(realm);
        if (service) url.searchParams.set('service', service);
        if (scope) url.searchParams.set('scope', scope);
        const basic = basicAuthorization(auth);
        r = response(
          await undici().request(url, {
            method: 'GET',
            headers: basic ? { authorization: basic } : {},
            headersTimeout: 30_000,
            ...(this.#o.dispatcher ? { dispatcher: this.#o.dispatcher } : {}),
          }),
        );
      }
    } catch (err) {
      throw this.#unreachable('GET', realm, err);
    }
    if (r.status === 401 || r.status === 403) {
      throw new UnauthorizedError(
        `registry ${this.#o.domain} refused the credentials: ${await errorText(r)}`,
      );
    }
    if (r.status !== 200)
      throw new UnavailableError(`token service ${realm} answered ${r.status}: ${await errorText(r)}`);
    const body = (await r.body.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token ? `Bearer ${token}` : undefined;
  }
}
