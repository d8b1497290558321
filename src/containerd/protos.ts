/**
 * containerd's API from the vendored `.proto` files (vendor/containerd-api, containerd 1.6.20, Apache-2.0): the
 * gRPC services berth calls, and the runtime option messages it packs into `Any`s. Field names keep their proto
 * spelling (`binary_name`): protobufjs' camelCase would drop snake_case keys silently and runc would run instead
 * of the binary named (containerd.md §3).
 *
 * @module
 */

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type protobuf from 'protobufjs';
import { loadProtos, VENDOR_DIR } from '../grpc/index.ts';

// protobufjs loads with the first option message (only under --containerd).
const requireOnUse = createRequire(import.meta.url);

const API = 'github.com/containerd/containerd/';
const INCLUDE = `${VENDOR_DIR}containerd-api`;

/** The services: Containers, Tasks, Events, Version (and the task event messages). */
export function loadServices() {
  return loadProtos({
    files: [
      'api/services/containers/v1/containers.proto',
      'api/services/tasks/v1/tasks.proto',
      'api/services/events/v1/events.proto',
      'api/services/version/v1/version.proto',
      'api/events/task.proto',
    ].map((f) => API + f),
    includeDirs: [INCLUDE],
  });
}

const DESCRIPTOR = join(
  dirname(createRequire(import.meta.url).resolve('protobufjs/package.json')),
  'google/protobuf/descriptor.proto',
);

/**
 * One vendored file as a protobufjs root. Each file gets its own root: the two option files import gogo.proto
 * under two paths, which one root would load twice.
 */
function loadFile(file: string): protobuf.Root {
  const { Root } = requireOnUse('protobufjs') as typeof protobuf;
  const root = new Root();
  root.resolvePath = (_origin, target) => {
    if (target === 'google/protobuf/descriptor.proto') return DESCRIPTOR;
    return target.startsWith('google/protobuf/') ? target : join(INCLUDE, target);
  };
  return root.loadSync(API + file, { keepCase: true });
}

let runcOptions: protobuf.Type | undefined;
let runtimeOptions: protobuf.Type | undefined;

/** `containerd.runc.v1.Options`: the runc shims' options (BinaryName, Root, SystemdCgroup, NoPivotRoot…). */
export function runcOptionsType(): protobuf.Type {
  runcOptions ??= loadFile('runtime/v2/runc/options/oci.proto').lookupType('containerd.runc.v1.Options');
  return runcOptions;
}

/** `runtimeoptions.v1.Options`: what other shims take (TypeUrl, ConfigPath). */
export function runtimeOptionsType(): protobuf.Type {
  runtimeOptions ??= loadFile('pkg/runtimeoptions/v1/api.proto').lookupType('runtimeoptions.v1.Options');
  return runtimeOptions;
}

let taskExit: protobuf.Type | undefined;

/** `containerd.events.TaskExit`, the payload of `/tasks/exit` events. */
export function taskExitType(): protobuf.Type {
  taskExit ??= loadFile('api/events/task.proto').lookupType('containerd.events.TaskExit');
  return taskExit;
}

/** A `google.protobuf.Any` as grpc-js sends it. */
export interface AnyValue {
  readonly type_url: string;
  readonly value: Buffer;
}

/** An OCI runtime spec as containerd stores it: JSON bytes under its well-known type URL. */
export function specAny(spec: unknown): AnyValue {
  return {
    type_url: 'types.containerd.io/opencontainers/runtime-spec/1/Spec',
    value: Buffer.from(JSON.stringify(spec)),
  };
}

/**
 * A message packed as an `Any`. Keys must be the proto's field names; a key the message does not have is an error
 * here, never dropped.
 */
export function packAny(type: protobuf.Type, typeUrl: string, fields: Record<string, unknown>): AnyValue {
  for (const key of Object.keys(fields)) {
    if (!type.fields[key]) throw new Error(`BUG: ${type.fullName} has no field ${key}`);
  }
  return { type_url: typeUrl, value: Buffer.from(type.encode(type.fromObject(fields)).finish()) };
}
