/**
 * The authorization protocol (`docker.authz/1.0`, `AuthZPlugin.*`): every Engine API request, then its response,
 * is shown to the plugin, which allows or denies it. Bodies arrive base64-encoded; handlers get them decoded.
 *
 * @module
 */
import { RequestError } from './fields.ts';
import type { Protocol } from './route.ts';

export interface AuthzRequest {
  readonly User: string;
  readonly UserAuthNMethod: string;
  readonly RequestMethod: string;
  /** As sent, with the API version prefix, e.g. `/v1.41/volumes/x`. */
  readonly RequestUri: string;
  /** `RequestUri` without its `/vX.Y` prefix and query, e.g. `/volumes/x`. */
  readonly RequestPath: string;
  /** Absent for streamed or empty bodies. */
  readonly RequestBody?: Buffer;
  readonly RequestHeaders: Readonly<Record<string, string>>;
  /** DER certificates of a TLS client. */
  readonly RequestPeerCertificates: readonly Buffer[];
}
export interface AuthzResponseRequest extends AuthzRequest {
  readonly ResponseStatusCode: number;
  readonly ResponseBody?: Buffer;
  readonly ResponseHeaders: Readonly<Record<string, string>>;
}
export interface AuthzVerdict {
  readonly Allow: boolean;
  /** Shown to the user when denied. */
  readonly Msg?: string;
}

type Maybe<T> = T | Promise<T>;

/** An authorization plugin. Throwing answers `{"Err": message}`, which Docker treats as a deny. */
export interface AuthzPlugin {
  request(req: AuthzRequest): Maybe<AuthzVerdict>;
  /** Default: allow every response. */
  response?(req: AuthzResponseRequest): Maybe<AuthzVerdict>;
}

const REQUEST = {
  User: 'string?',
  UserAuthNMethod: 'string?',
  RequestMethod: 'string',
  RequestUri: 'string',
  RequestBody: 'string?',
  RequestHeaders: 'map?',
  RequestPeerCertificates: 'strings?',
} as const;
const RESPONSE = {
  ...REQUEST,
  ResponseStatusCode: 'number?',
  ResponseBody: 'string?',
  ResponseHeaders: 'map?',
} as const;

function base64(method: string, field: string, value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value))
    throw new RequestError(`${method}: ${field} must be base64 (Go's []byte encoding)`);
  return Buffer.from(value, 'base64');
}

/** Decodes the fields every authorization call carries. */
export function decodeAuthz(method: string, r: Record<string, unknown>): AuthzRequest {
  const uri = String(r.RequestUri);
  const body = base64(method, 'RequestBody', r.RequestBody);
  return {
    User: String(r.User ?? ''),
    UserAuthNMethod: String(r.UserAuthNMethod ?? ''),
    RequestMethod: String(r.RequestMethod),
    RequestUri: uri,
    RequestPath: uri.replace(/[?#].*$/, '').replace(/^\/v\d+(?:\.\d+)?(?=\/)/, ''),
    ...(body ? { RequestBody: body } : {}),
    RequestHeaders: (r.RequestHeaders as Record<string, string>) ?? {},
    RequestPeerCertificates: ((r.RequestPeerCertificates as string[]) ?? []).map(
      (c, i) => base64(method, `RequestPeerCertificates[${i}]`, c) ?? Buffer.alloc(0),
    ),
  };
}

function verdict(v: AuthzVerdict): { Allow: boolean; Msg?: string } {
  return { Allow: v.Allow === true, ...(v.Msg ? { Msg: v.Msg } : {}) };
}

export const authzProtocol: Protocol<AuthzPlugin> = {
  implements: 'authz',
  routes: [
    {
      method: 'AuthZPlugin.AuthZReq',
      fields: REQUEST,
      run: async (h, r) => verdict(await h.request(decodeAuthz('AuthZPlugin.AuthZReq', r))),
    },
    {
      method: 'AuthZPlugin.AuthZRes',
      fields: RESPONSE,
      run: async (h, r) => {
        if (!h.response) return { Allow: true };
        const m = 'AuthZPlugin.AuthZRes';
        const body = base64(m, 'ResponseBody', r.ResponseBody);
        return verdict(
          await h.response({
            ...decodeAuthz(m, r),
            ResponseStatusCode: Number(r.ResponseStatusCode ?? 0),
            ...(body ? { ResponseBody: body } : {}),
            ResponseHeaders: (r.ResponseHeaders as Record<string, string>) ?? {},
          }),
        );
      },
    },
  ],
};
