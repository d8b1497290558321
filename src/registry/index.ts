export {
  basicAuthorization,
  type Challenge,
  decodeRegistryAuth,
  encodeRegistryAuth,
  parseChallenges,
  type RegistryAuth,
  registryAuthFrom,
} from './auth.ts';
export { sha256, verifyDigest } from './digest.ts';
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
  type UploadBody,
} from './registry-client.ts';
