import { type ErrorKind, kindOf } from './errors.ts';

/** The one kind → HTTP status table. Adding a kind without a status here is a compile error. */
export const HTTP_STATUS: Readonly<Record<ErrorKind, number>> = {
  NotFound: 404,
  InvalidParameter: 400,
  Conflict: 409,
  Unauthorized: 401,
  Forbidden: 403,
  Unavailable: 503,
  NotImplemented: 501,
  NotModified: 304,
  System: 500,
};

/** HTTP status for any thrown value; unknown errors are 500. */
export function httpStatusOf(err: unknown): number {
  return HTTP_STATUS[kindOf(err)];
}
