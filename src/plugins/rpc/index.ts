/** Calling a running plugin: the HTTP-over-unix-socket client and the authorization plugin chain. */
export { AuthzChain, type AuthzRequest, type AuthzResponse } from './authz.ts';
export {
  DEFAULT_CALL_TIMEOUT_MS,
  LONG_CALL_TIMEOUT_MS,
  PLUGIN_MEDIA_TYPE,
  PluginClient,
  type PluginClientOptions,
  type RpcObserver,
} from './plugin-client.ts';
