export {
  BerthError,
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
export { errorFromStatus, HTTP_STATUS, httpStatusOf } from './http-status.ts';
