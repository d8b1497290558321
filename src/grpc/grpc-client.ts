/**
 * gRPC over unix sockets from vendored `.proto` files (containerd, CRI): loading with the options that keep
 * field names as written (`binary_name`, not `binaryName`: protobufjs' camelCase silently drops snake_case
 * fields, containerd.md §3), and unary calls as promises with a deadline.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type * as grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';
import { UnavailableError } from '../errdefs/index.ts';

/** Where the vendored protos live (the package ships vendor/): from src/grpc and from dist/grpc alike. */
export const VENDOR_DIR = new URL('../../vendor/', import.meta.url).pathname;

/** The CRI v1 API (`runtime.v1.RuntimeService`, `runtime.v1.ImageService`), kubernetes/cri-api. */
export const CRI_PROTO = { files: ['api.proto'], includeDirs: [`${VENDOR_DIR}cri-api`] } as const;

/** containerd's Introspection service (`containerd.services.introspection.v1.Introspection`). */
export const CONTAINERD_INTROSPECTION_PROTO = {
  files: ['github.com/containerd/containerd/api/services/introspection/v1/introspection.proto'],
  includeDirs: [`${VENDOR_DIR}containerd-api`],
} as const;

// grpc-js and proto-loader (~10 MiB of berthd's memory) load on the first gRPC use: a berthd without containerd
// never needs them. Synchronous require keeps these functions synchronous.
const requireOnUse = createRequire(import.meta.url);
let grpcModule: typeof grpc | undefined;
/** @grpc/grpc-js, loaded on first use. */
export const grpcJs = (): typeof grpc => (grpcModule ??= requireOnUse('@grpc/grpc-js') as typeof grpc);

export interface ProtoSource {
  readonly files: readonly string[];
  readonly includeDirs: readonly string[];
}

/** Loads protos into a grpc-js package object. Fields keep their proto names; enums are strings. */
export function loadProtos(source: ProtoSource): grpc.GrpcObject {
  const protoLoader = requireOnUse('@grpc/proto-loader') as typeof ProtoLoader;
  const definition = protoLoader.loadSync([...source.files], {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [...source.includeDirs],
  });
  return grpcJs().loadPackageDefinition(definition);
}

/** A service constructor by dotted name (`runtime.v1.RuntimeService`). */
export function serviceOf(pkg: grpc.GrpcObject, name: string): grpc.ServiceClientConstructor {
  let node: unknown = pkg;
  for (const part of name.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  if (typeof node !== 'function') throw new Error(`BUG: no gRPC service ${name} in the loaded protos`);
  return node as grpc.ServiceClientConstructor;
}

/** A client of `service` on a unix socket (no TLS: the socket's permissions are the access control). */
export function unixClient(service: grpc.ServiceClientConstructor, socket: string): grpc.Client {
  return new service(`unix://${socket}`, grpcJs().credentials.createInsecure(), RECONNECT);
}

/**
 * A local daemon that restarts (containerd) is back within a second or two: reconnect at that pace, not with
 * grpc-js's default backoff, which grows to two minutes while every call fails "No connection established".
 */
const RECONNECT: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

export interface CallOptions {
  readonly metadata?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** Wait (until the deadline) for a connection that is being re-established, instead of failing at once. */
  readonly waitForReady?: boolean;
}

/**
 * One unary call as a promise. Errors keep gRPC's code and details: `UNAVAILABLE` (nothing listening) becomes
 * an {@link UnavailableError}; others are the grpc-js `ServiceError`.
 */
export function unary<Res = Record<string, unknown>>(
  client: grpc.Client,
  method: string,
  request: unknown,
  o: CallOptions = {},
): Promise<Res> {
  const fn = (client as unknown as Record<string, unknown>)[method];
  if (typeof fn !== 'function') return Promise.reject(new Error(`BUG: no gRPC method ${method}`));
  const metadata = new (grpcJs().Metadata)();
  for (const [k, v] of Object.entries(o.metadata ?? {})) metadata.set(k, v);
  const deadline = new Date(Date.now() + (o.timeoutMs ?? 10_000));
  return new Promise<Res>((resolve, reject) => {
    (fn as (...args: unknown[]) => void).call(
      client,
      request,
      metadata,
      { deadline, ...(o.waitForReady ? { waitForReady: true } : {}) },
      (err: grpc.ServiceError | null, res: Res) => {
        if (!err) resolve(res);
        else if (err.code === grpcJs().status.UNAVAILABLE)
          reject(new UnavailableError(`gRPC ${method}: ${err.details || err.message}`, { cause: err }));
        else reject(err);
      },
    );
  });
}
