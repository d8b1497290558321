import type { Fields } from './fields.ts';

/** What a route's handler may use besides its request. */
export interface CallContext {
  /** Aborted when the caller goes away or the server shuts down. */
  readonly signal: AbortSignal;
}

/** One `POST /<Iface>.<Method>` a protocol answers; `H` is the protocol's handler interface. */
export interface Route<H> {
  readonly method: string;
  readonly fields: Fields;
  /** Calls the handler; the result is sent as JSON (undefined → `{}`), or streamed when `stream` says so. */
  run(handler: H, request: Record<string, unknown>, ctx: CallContext): unknown;
  /** The answer is a byte stream (LogDriver.ReadLogs), not JSON. */
  readonly stream?: boolean;
}

/** A protocol: the name `Plugin.Activate` lists for it and its routes. */
export interface Protocol<H> {
  readonly implements: string;
  readonly routes: readonly Route<H>[];
}

export const asVoid = async (p: unknown): Promise<Record<string, never>> => {
  await p;
  return {};
};
