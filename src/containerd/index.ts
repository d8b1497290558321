/**
 * containerd over its gRPC API: one namespace's containers, tasks and task exits, from vendored protos.
 * @module
 */
export { ContainerdClient, type ContainerRecord, type TaskExit, type TaskInfo } from './client.ts';
export { containerdError } from './errors.ts';
export { type AnyValue, packAny, runcOptionsType, runtimeOptionsType, specAny } from './protos.ts';
