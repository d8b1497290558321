export {
  type CallOptions,
  CONTAINERD_INTROSPECTION_PROTO,
  CRI_PROTO,
  grpcJs,
  loadProtos,
  type ProtoSource,
  serviceOf,
  unary,
  unixClient,
  VENDOR_DIR,
} from './grpc-client.ts';
