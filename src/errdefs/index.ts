export {
  BerthError,
  ConflictError,
  type ErrorKind,
  ForbiddenError,
  InvalidParameterError,
  kindOf,
  NotFoundError,
  NotImplementedError,
  NotModifiedError,
  SystemError,
  UnauthorizedError,
  UnavailableError,
} from './errors.ts';
export { errorFromStatus, HTTP_STATUS, httpStatusOf } from './http-status.ts';
