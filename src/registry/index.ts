export {
  basicAuthorization,
  type Challenge,
  decodeRegistryAuth,
  encodeRegistryAuth,
  parseChallenges,
  type RegistryAuth,
  registryAuthFrom,
} from './auth.ts';
export { insecureRegistries, insecureRegistryProblems } from './insecure.ts';
export {
  apiHost,
  DOCKER_HUB,
  DOCKER_HUB_API,
  familiarRepository,
  parseRemoteReference,
  qualifiedReference,
  type RemoteReference,
  withDefaultTag,
} from './reference.ts';
export {
  MEDIA_TYPES,
  RegistryClient,
  type RegistryClientOptions,
  sha256,
  type UploadBody,
  verifyDigest,
} from './registry-client.ts';
