/**
 * berth's single error taxonomy. Every failure a caller may act on is a {@link BerthError} with a `kind`;
 * the kind decides the HTTP status (see ./http-status.ts) and the CLI exit message.
 *
 * @module
 */

/** What went wrong, from the caller's point of view. Mirrors moby's errdefs classes. */
export type ErrorKind =
  | 'NotFound'
  | 'InvalidParameter'
  | 'Conflict'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Unavailable'
  | 'NotImplemented'
  | 'NotModified'
  | 'Deadline'
  | 'RequestTimeout'
  | 'TooLarge'
  | 'System';

/** Base class of every error berth raises on purpose. `cause` keeps the underlying error. */
export abstract class BerthError extends Error {
  abstract readonly kind: ErrorKind;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The named object does not exist (404). */
export class NotFoundError extends BerthError {
  override readonly kind = 'NotFound';
}

/** The request or input is malformed or names an impossible value (400). */
export class InvalidParameterError extends BerthError {
  override readonly kind = 'InvalidParameter';
}

/** The object is in a state that forbids the operation, or already exists (409). */
export class ConflictError extends BerthError {
  override readonly kind = 'Conflict';
}

/** The caller is not authenticated (401). */
export class UnauthorizedError extends BerthError {
  override readonly kind = 'Unauthorized';
}

/** The caller may not do this, e.g. an authorization plugin denied it (403). */
export class ForbiddenError extends BerthError {
  override readonly kind = 'Forbidden';
}

/** A dependency (runtime, executor, plugin) cannot serve the request right now (503). */
export class UnavailableError extends BerthError {
  override readonly kind = 'Unavailable';
}

/** berth does not implement this endpoint or feature (501). */
export class NotImplementedError extends BerthError {
  override readonly kind = 'NotImplemented';
}

/** Nothing to do: the object is already in the requested state (304). */
export class NotModifiedError extends BerthError {
  override readonly kind = 'NotModified';
}

/** Something berth waited on (a plugin) did not answer in time (504); the message names it and the call. */
export class DeadlineError extends BerthError {
  override readonly kind = 'Deadline';
}

/** The client stopped sending its request (body) for too long (408). */
export class RequestTimeoutError extends BerthError {
  override readonly kind = 'RequestTimeout';
}

/** The request (body) is larger than berth accepts (413); the message says the limit. */
export class PayloadTooLargeError extends BerthError {
  override readonly kind = 'TooLarge';
}

/** berth or the host failed; not the caller's fault (500). */
export class SystemError extends BerthError {
  override readonly kind = 'System';
}

/** The kind of any thrown value: a {@link BerthError}'s own kind, `System` for everything else. */
export function kindOf(err: unknown): ErrorKind {
  return err instanceof BerthError ? err.kind : 'System';
}
