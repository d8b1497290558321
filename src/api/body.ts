/**
 * Request bodies as dockerd reads them: whatever the `Content-Type` says, or without one. dockerd's handlers decode
 * JSON from the body without looking at the header (the Python docker SDK sends none, curl sends
 * `application/x-www-form-urlencoded`), and `POST /plugins/create` takes a tar, plain or gzip by its magic bytes.
 * So one parser reads every body, whatever its `Content-Type` (even one that is no media type at all): routes
 * marked `rawBody` get the stream, all others parsed JSON.
 *
 * @module
 */
import type { Readable } from 'node:stream';
import { InvalidParameterError, PayloadTooLargeError } from '../errdefs/index.ts';
import type { ApiRequest, RouteConfig } from './server/request.ts';

/** Route config of the routes that read the body themselves as a stream. */
export const RAW_BODY: RouteConfig = { rawBody: true };

/** Whether the request's route reads its body as a stream. */
export function isRawBodyRoute(req: ApiRequest): boolean {
  return req.route?.config.rawBody === true;
}

/** JSON bodies are capped (413 past it); streamed uploads have their own caps. */
export const JSON_BODY_LIMIT = 1 << 20;

async function readText(payload: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new PayloadTooLargeError(
        `request body is too large: a JSON body may have at most ${limit} bytes`,
      );
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An empty body is no body (`undefined`): routes decide what absence means. */
export function parseJsonBody(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    return JSON.parse(trimmed);
  } catch (err) {
    throw new InvalidParameterError(`request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The body as the route gets it: the stream for {@link RAW_BODY} routes, parsed JSON for all others. */
export function readRequestBody(
  req: ApiRequest,
  body: Readable,
  limit = JSON_BODY_LIMIT,
): Readable | Promise<unknown> {
  if (isRawBodyRoute(req)) return body;
  return readText(body, limit).then(parseJsonBody);
}
