/**
 * Request bodies as dockerd reads them: whatever the `Content-Type` says, or without one. dockerd's handlers decode
 * JSON from the body without looking at the header (the Python docker SDK sends none, curl sends
 * `application/x-www-form-urlencoded`), and `POST /plugins/create` takes a tar, plain or gzip by its magic bytes.
 * So one catch-all parser reads every body: routes marked `rawBody` get the stream, all others parsed JSON.
 *
 * @module
 */
import type { Readable } from 'node:stream';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { InvalidParameterError } from '../errdefs/index.ts';

/** Route config of the routes that read the body themselves as a stream. */
export const RAW_BODY = { rawBody: true } as const;

/** Whether the request's route reads its body as a stream. */
export function isRawBodyRoute(req: FastifyRequest): boolean {
  return Boolean((req.routeOptions.config as { rawBody?: boolean } | undefined)?.rawBody);
}

/** A media type as RFC 9110 writes it (`type/subtype`, parameters after `;`). */
const MEDIA_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+\s*(;.*)?$/;

async function readText(payload: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
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

/** Installs the one body parser; `limit` caps JSON bodies (413 past it). */
export function registerBodyParsing(app: FastifyInstance, limit = 1 << 20): void {
  // A header that is not a media type at all would be refused 415 before any parser runs; dockerd ignores it.
  app.addHook('onRequest', (req, _reply, done) => {
    const type = req.headers['content-type'];
    if (type !== undefined && !MEDIA_TYPE.test(type)) delete req.headers['content-type'];
    done();
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    if (isRawBodyRoute(req)) {
      done(null, payload);
      return;
    }
    readText(payload, limit).then(
      (text) => {
        try {
          done(null, parseJsonBody(text));
        } catch (err) {
          done(err as Error, undefined);
        }
      },
      (err: Error) => done(err, undefined),
    );
  });
}
