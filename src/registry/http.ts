/**
 * The registry client's HTTP transport, on node:http and node:https: one request, its answer streamed (never
 * buffered here), redirects of GET and HEAD followed (a registry sends blob downloads to its storage, often another
 * host: the Authorization header is not sent there). Not undici: its llhttp WebAssembly and ~10 MiB of modules were
 * most of what a plugin install added to berthd's peak RSS (BENCHMARKS.md, "Bulk data").
 *
 * @module
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** Every value of each header (a registry may send several `WWW-Authenticate` challenges). */
  readonly headersDistinct: IncomingMessage['headersDistinct'];
  readonly body: IncomingMessage;
}

export interface HttpRequest {
  readonly method: string;
  readonly url: string | URL;
  readonly headers?: Record<string, string>;
  /** Sent as is; a stream is piped (its length, when needed, is the caller's `content-length`). */
  readonly body?: Buffer | string | Readable | undefined;
  /** Until the answer's headers, and then between two pieces of its body (undici's headers and body timeouts). */
  readonly timeoutMs: number;
}

const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// Connections are kept for the next request of a pull (manifest, config, layers) like undici's pool did; the agents
// unref their idle sockets, which do not keep the daemon up.
let agents: { http: HttpAgent; https: HttpsAgent } | undefined;
const agentFor = (protocol: string) => {
  agents ??= { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  return protocol === 'https:' ? agents.https : agents.http;
};

/** One exchange, no redirect followed. @throws the socket's or TLS's error, or a timeout */
function exchange(o: HttpRequest, url: URL): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new Error(`unsupported protocol ${url.protocol}`));
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: o.method, headers: o.headers, agent: agentFor(url.protocol) });
    // Socket inactivity: covers the wait for the headers and every pause of the body once it flows.
    req.setTimeout(o.timeoutMs, () =>
      req.destroy(new Error(`timed out after ${o.timeoutMs} ms without data`)),
    );
    req.once('error', reject);
    req.once('response', (res) => {
      // An error of the body after this point reaches whoever reads it (res is destroyed with it).
      req.off('error', reject);
      req.on('error', () => {});
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        headersDistinct: res.headersDistinct,
        body: res,
      });
    });
    const body = o.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    // A registry may answer (401, 404) before it has read the upload: the request's own error is what counts.
    else pipeline(body, req).catch((err: Error) => req.destroy(err));
  });
}

/**
 * Sends a request and follows redirects of GET and HEAD; across origins without the Authorization header.
 * @throws the connection's error, a timeout, or too many redirects
 */
export async function httpSend(o: HttpRequest): Promise<HttpResponse> {
  const first = new URL(o.url);
  let url = first;
  let headers = o.headers ?? {};
  for (let hops = 0; ; hops++) {
    const r = await exchange({ ...o, headers }, url);
    const location = r.headers.location;
    if (!REDIRECTS.has(r.status) || !location || (o.method !== 'GET' && o.method !== 'HEAD')) return r;
    r.body.resume();
    if (hops === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${first.href}`);
    url = new URL(location, url);
    if (url.origin !== first.origin && headers.authorization !== undefined) {
      const { authorization: _, ...rest } = headers;
      headers = rest;
    }
  }
}

/** The whole body (a manifest, a token, an error text). */
export async function readBody(r: HttpResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Reads the body to its end and drops it, so the connection can serve the next request. */
export async function dump(r: HttpResponse): Promise<void> {
  if (r.body.readableEnded || r.body.destroyed) return;
  r.body.resume();
  await new Promise<void>((resolve) => {
    r.body.once('end', resolve);
    r.body.once('close', resolve);
    r.body.once('error', () => resolve());
  });
}
