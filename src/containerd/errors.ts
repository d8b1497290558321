/**
 * containerd's errors arrive as gRPC status codes (containerd maps its errdefs onto them); this is the one table
 * from those codes to berth's error kinds.
 *
 * @module
 */
import {
  type BerthError,
  ConflictError,
  DeadlineError,
  InvalidParameterError,
  NotFoundError,
  NotImplementedError,
  SystemError,
  UnavailableError,
} from '../errdefs/index.ts';
import { grpcJs } from '../grpc/index.ts';

type ErrorClass = new (message: string, options?: { cause?: unknown }) => BerthError;

/** Built on first use: grpc-js loads only when containerd is used. */
let byCode: Readonly<Partial<Record<number, ErrorClass>>> | undefined;
function kindOf(code: number): ErrorClass | undefined {
  const { status } = grpcJs();
  byCode ??= {
    [status.NOT_FOUND]: NotFoundError,
    [status.ALREADY_EXISTS]: ConflictError,
    [status.FAILED_PRECONDITION]: ConflictError,
    [status.INVALID_ARGUMENT]: InvalidParameterError,
    [status.UNAVAILABLE]: UnavailableError,
    [status.DEADLINE_EXCEEDED]: DeadlineError,
    [status.UNIMPLEMENTED]: NotImplementedError,
  };
  return byCode[code];
}

/** A failed containerd call as a berth error: `containerd <call>: <details>`, of the code's kind. */
export function containerdError(call: string, err: unknown): BerthError {
  const e = err as { code?: number; details?: string; message?: string; cause?: unknown };
  // The gRPC layer already made an UnavailableError of a socket nobody listens on: keep its kind.
  const code = err instanceof UnavailableError ? grpcJs().status.UNAVAILABLE : e.code;
  const Kind = (code !== undefined ? kindOf(code) : undefined) ?? SystemError;
  const why = e.details || e.message || String(err);
  return new Kind(`containerd ${call}: ${why}`, { cause: err });
}
