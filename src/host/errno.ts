/**
 * The one errno → error kind map, applied where berth does I/O (denoland/std's `_map_error.ts`): a failed
 * syscall becomes a {@link BerthError} whose kind says what a caller can do about it, with the errno's own words
 * and the original error as `cause`. Only these meanings are known; anything else is a system error.
 *
 * @module
 */
import {
  type BerthError,
  ConflictError,
  type ErrorKind,
  InvalidParameterError,
  NotFoundError,
  SystemError,
  UnavailableError,
} from '../errdefs/index.ts';

const KIND_OF_ERRNO: Readonly<Record<string, ErrorKind>> = {
  ENOENT: 'NotFound',
  ENOTDIR: 'NotFound',
  EEXIST: 'Conflict',
  ENOTEMPTY: 'Conflict',
  EBUSY: 'Conflict',
  ENAMETOOLONG: 'InvalidParameter',
  ELOOP: 'InvalidParameter',
  ECONNREFUSED: 'Unavailable',
  ETIMEDOUT: 'Unavailable',
  EAGAIN: 'Unavailable',
  EMFILE: 'Unavailable',
  ENFILE: 'Unavailable',
  // EACCES, EPERM, EROFS, ENOSPC, EIO…: the daemon's own files or the host are at fault, not the request.
};

const CLASSES: Partial<
  Record<ErrorKind, new (message: string, options?: { cause?: unknown }) => BerthError>
> = {
  NotFound: NotFoundError,
  Conflict: ConflictError,
  InvalidParameter: InvalidParameterError,
  Unavailable: UnavailableError,
};

/** The errno code of a Node error (`ENOENT`), if it has one. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** The kind an errno means; `System` for unknown codes and non-errno errors. */
export function kindOfErrno(err: unknown): ErrorKind {
  return KIND_OF_ERRNO[errnoOf(err) ?? ''] ?? 'System';
}

/** Go's errno words ("no such file or directory") from a Node fs error ("ENOENT: no such file …, open '…'"). */
export function errnoText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const m = /^[A-Z0-9]+: (.*?), \w+(?: '.*)?$/.exec(err.message);
  return m?.[1] ?? err.message;
}

/**
 * A failed I/O call as a berth error: `${what}: ${errno words}`, of the errno's kind.
 * @example fromErrno(err, 'cannot read /var/lib/berth/volumes/volumes.json') // SystemError "…: permission denied"
 */
export function fromErrno(err: unknown, what: string): BerthError {
  const Kind = CLASSES[kindOfErrno(err)] ?? SystemError;
  return new Kind(`${what}: ${errnoText(err)}`, { cause: err });
}
