import type { Readable } from 'node:stream';
import { httpStatusOf } from '../errdefs/index.ts';
import type { AuthzRequest } from '../plugins/index.ts';
import type { AuthzPort } from './ports.ts';
import type { ApiReply } from './server/reply.ts';
import type { ApiRequest } from './server/request.ts';
import type { ApiServer } from './server/server.ts';

const MAX_INSPECTED_BODY = 1 << 20;

function headersOf(h: Record<string, string | string[] | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

function requestOf(req: ApiRequest): AuthzRequest {
  const body = req.body;
  const inspectable = body !== undefined && typeof (body as { pipe?: unknown }).pipe !== 'function';
  const text = inspectable ? JSON.stringify(body) : undefined;
  return {
    User: '',
    UserAuthNMethod: '',
    RequestMethod: req.method,
    RequestUri: req.originalUrl,
    ...(text !== undefined && text.length <= MAX_INSPECTED_BODY
      ? { RequestBody: Buffer.from(text).toString('base64') }
      : {}),
    RequestHeaders: headersOf(req.headers),
  };
}

type Payload = string | Buffer | Readable | undefined;

async function authorizeResponse(
  chain: AuthzPort,
  req: ApiRequest,
  reply: ApiReply,
  payload: Payload,
): Promise<Payload> {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? Buffer.from(payload) : undefined;
  try {
    await chain.authorizeResponse(requestOf(req), {
      ResponseStatusCode: reply.statusCode,
      ResponseHeaders: headersOf(reply.getHeaders()),
      ...(body && body.length <= MAX_INSPECTED_BODY ? { ResponseBody: body.toString('base64') } : {}),
    });
    return payload;
  } catch (err) {
    if (payload && typeof payload !== 'string' && !Buffer.isBuffer(payload)) payload.destroy();
    reply.code(httpStatusOf(err)).type('application/json');
    return JSON.stringify({ message: (err as Error).message });
  }
}

/**
 * Puts every request and response through the authorization chain when it has active plugins, except those
 * `exempt` names (answered at start before the chain was ready: api/startup-gate.ts). The chain is asked on
 * every request (a reload may configure or drop plugins at any time); with none active, the hooks are
 * callback-style and return at once, so a daemon without authorization pays no promise per request.
 */
export function registerAuthz(
  app: ApiServer,
  chain: AuthzPort,
  exempt: (req: ApiRequest) => boolean = () => false,
): void {
  app.addHook('preHandler', (req) => {
    if (exempt(req) || chain.active().length === 0) return;
    return chain.authorizeRequest(requestOf(req));
  });

  app.addHook('onSend', (req, reply, payload) => {
    if (exempt(req) || chain.active().length === 0 || reply.statusCode === 403) return payload;
    return authorizeResponse(chain, req, reply, payload);
  });
}
