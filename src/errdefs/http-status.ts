import {
  type BerthError,
  ConflictError,
  DeadlineError,
  type ErrorKind,
  ForbiddenError,
  InvalidParameterError,
  kindOf,
  NotFoundError,
  NotImplementedError,
  NotModifiedError,
  PayloadTooLargeError,
  RequestTimeoutError,
  SystemError,
  UnauthorizedError,
  UnavailableError,
} from './errors.ts';

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
  Deadline: 504,
  RequestTimeout: 408,
  TooLarge: 413,
  System: 500,
};

/** HTTP status for any thrown value; unknown errors are 500. */
export function httpStatusOf(err: unknown): number {
  return HTTP_STATUS[kindOf(err)];
}

const BY_STATUS: Record<number, new (message: string) => BerthError> = {
  304: NotModifiedError,
  400: InvalidParameterError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  408: RequestTimeoutError,
  409: ConflictError,
  413: PayloadTooLargeError,
  501: NotImplementedError,
  503: UnavailableError,
  504: DeadlineError,
};

/** The error a client raises for an HTTP error status: the inverse of {@link HTTP_STATUS}. */
export function errorFromStatus(status: number, message: string): BerthError {
  const Kind = BY_STATUS[status] ?? (status >= 400 && status < 500 ? InvalidParameterError : SystemError);
  return new Kind(message);
}
