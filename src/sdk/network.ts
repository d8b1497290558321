/**
 * libnetwork's remote drivers: IPAM (`docker.ipamdriver/1.0`, `IpamDriver.*`) and network
 * (`docker.networkdriver/1.0`, `NetworkDriver.*`), with the request and response shapes of libnetwork's
 * `ipams/remote/api` and `drivers/remote/api`. Optional network calls answer `{}` when not implemented, as
 * libnetwork's own remote driver tolerates.
 *
 * @module
 */
import type { Fields } from './fields.ts';
import { asVoid, type Protocol, type Route } from './route.ts';

type Maybe<T> = T | Promise<T>;
type Opts = Readonly<Record<string, string>>;

// ---- IPAM ----
export interface IpamCapabilities {
  readonly RequiresMACAddress?: boolean;
  readonly RequiresRequestReplay?: boolean;
}
export interface AddressSpaces {
  readonly LocalDefaultAddressSpace: string;
  readonly GlobalDefaultAddressSpace: string;
}
export interface RequestPoolRequest {
  readonly AddressSpace: string;
  /** CIDR asked for; empty means any. */
  readonly Pool: string;
  readonly SubPool: string;
  readonly Options: Opts;
  readonly V6: boolean;
}
export interface RequestPoolResponse {
  readonly PoolID: string;
  /** CIDR. */
  readonly Pool: string;
  readonly Data?: Opts;
}
export interface RequestAddressRequest {
  readonly PoolID: string;
  /** Preferred address; empty means any. */
  readonly Address: string;
  readonly Options: Opts;
}
export interface RequestAddressResponse {
  /** CIDR form, e.g. `10.0.0.2/24`. */
  readonly Address: string;
  readonly Data?: Opts;
}

export interface IpamDriver {
  capabilities?(): Maybe<IpamCapabilities>;
  getDefaultAddressSpaces(): Maybe<AddressSpaces>;
  requestPool(req: RequestPoolRequest): Maybe<RequestPoolResponse>;
  releasePool(req: { readonly PoolID: string }): Maybe<void>;
  requestAddress(req: RequestAddressRequest): Maybe<RequestAddressResponse>;
  releaseAddress(req: { readonly PoolID: string; readonly Address: string }): Maybe<void>;
}

const withDefaults = <T>(defaults: object, r: Record<string, unknown>) => ({ ...defaults, ...r }) as T;

export const ipamProtocol: Protocol<IpamDriver> = {
  implements: 'IpamDriver',
  routes: [
    { method: 'IpamDriver.GetCapabilities', fields: {}, run: async (h) => (await h.capabilities?.()) ?? {} },
    { method: 'IpamDriver.GetDefaultAddressSpaces', fields: {}, run: (h) => h.getDefaultAddressSpaces() },
    {
      method: 'IpamDriver.RequestPool',
      fields: {
        AddressSpace: 'string?',
        Pool: 'string?',
        SubPool: 'string?',
        Options: 'map?',
        V6: 'boolean?',
      },
      run: (h, r) =>
        h.requestPool(withDefaults({ AddressSpace: '', Pool: '', SubPool: '', Options: {}, V6: false }, r)),
    },
    {
      method: 'IpamDriver.ReleasePool',
      fields: { PoolID: 'string' },
      run: (h, r) => asVoid(h.releasePool(r as { PoolID: string })),
    },
    {
      method: 'IpamDriver.RequestAddress',
      fields: { PoolID: 'string', Address: 'string?', Options: 'map?' },
      run: (h, r) => h.requestAddress(withDefaults({ Address: '', Options: {} }, r)),
    },
    {
      method: 'IpamDriver.ReleaseAddress',
      fields: { PoolID: 'string', Address: 'string' },
      run: (h, r) => asVoid(h.releaseAddress(r as { PoolID: string; Address: string })),
    },
  ],
};

// ---- network ----
export interface NetworkCapabilities {
  readonly Scope: 'local' | 'global';
  readonly ConnectivityScope?: 'local' | 'global';
}
export interface IPAMData {
  readonly AddressSpace: string;
  readonly Pool: string;
  readonly Gateway: string;
  readonly AuxAddresses: Opts;
}
export interface CreateNetworkRequest {
  readonly NetworkID: string;
  /** Generic options, e.g. `com.docker.network.generic` with the `-o` options. */
  readonly Options: Readonly<Record<string, unknown>>;
  readonly IPv4Data: readonly IPAMData[];
  readonly IPv6Data: readonly IPAMData[];
}
export interface AllocateNetworkRequest {
  readonly NetworkID: string;
  readonly IPv4Data: readonly IPAMData[];
  readonly IPv6Data: readonly IPAMData[];
  readonly Options: Opts;
}
export interface EndpointInterface {
  readonly Address?: string;
  readonly AddressIPv6?: string;
  readonly MacAddress?: string;
}
export interface NetworkRequest {
  readonly NetworkID: string;
}
export interface EndpointRequest {
  readonly NetworkID: string;
  readonly EndpointID: string;
}
export interface CreateEndpointRequest extends EndpointRequest {
  readonly Interface?: EndpointInterface;
  readonly Options: Readonly<Record<string, unknown>>;
}
export interface JoinRequest extends EndpointRequest {
  readonly SandboxKey: string;
  readonly Options: Readonly<Record<string, unknown>>;
}
export interface StaticRoute {
  readonly Destination: string;
  /** 0: via next hop, 1: connected. */
  readonly RouteType: number;
  readonly NextHop?: string;
}
export interface JoinResponse {
  readonly InterfaceName?: { readonly SrcName: string; readonly DstPrefix: string };
  readonly MacAddress?: string;
  readonly Gateway?: string;
  readonly GatewayIPv6?: string;
  readonly StaticRoutes?: readonly StaticRoute[];
  readonly DisableGatewayService?: boolean;
}
export interface DiscoveryRequest {
  readonly DiscoveryType: number;
  readonly DiscoveryData: unknown;
}
export interface ExternalConnectivityRequest extends EndpointRequest {
  readonly Options?: Readonly<Record<string, unknown>>;
}

export interface NetworkDriver {
  capabilities(): Maybe<NetworkCapabilities>;
  createNetwork(req: CreateNetworkRequest): Maybe<void>;
  deleteNetwork(req: NetworkRequest): Maybe<void>;
  allocateNetwork?(req: AllocateNetworkRequest): Maybe<{ readonly Options?: Opts }>;
  freeNetwork?(req: NetworkRequest): Maybe<void>;
  createEndpoint(req: CreateEndpointRequest): Maybe<{ readonly Interface?: EndpointInterface }>;
  deleteEndpoint(req: EndpointRequest): Maybe<void>;
  endpointOperInfo?(req: EndpointRequest): Maybe<{ readonly Value: Readonly<Record<string, unknown>> }>;
  join(req: JoinRequest): Maybe<JoinResponse>;
  leave(req: EndpointRequest): Maybe<void>;
  discoverNew?(req: DiscoveryRequest): Maybe<void>;
  discoverDelete?(req: DiscoveryRequest): Maybe<void>;
  programExternalConnectivity?(req: ExternalConnectivityRequest): Maybe<void>;
  revokeExternalConnectivity?(req: EndpointRequest): Maybe<void>;
}

const NET: Fields = { NetworkID: 'string' };
const EP: Fields = { NetworkID: 'string', EndpointID: 'string' };
const DISCOVERY: Fields = { DiscoveryType: 'number', DiscoveryData: 'any?' };

/** A call whose answer is `{}`, or the handler's answer when it has one. */
function call(
  method: string,
  fields: Fields,
  pick: (h: NetworkDriver) => unknown,
  defaults = {},
): Route<NetworkDriver> {
  return {
    method,
    fields,
    run: async (h, r) => {
      const f = pick(h) as ((req: unknown) => unknown) | undefined;
      return (f ? await f.call(h, { ...defaults, ...r }) : undefined) ?? {};
    },
  };
}

export const networkProtocol: Protocol<NetworkDriver> = {
  implements: 'NetworkDriver',
  routes: [
    call('NetworkDriver.GetCapabilities', {}, (h) => h.capabilities),
    call(
      'NetworkDriver.CreateNetwork',
      { NetworkID: 'string', Options: 'object?', IPv4Data: 'array?', IPv6Data: 'array?' },
      (h) => h.createNetwork,
      { Options: {}, IPv4Data: [], IPv6Data: [] },
    ),
    call('NetworkDriver.DeleteNetwork', NET, (h) => h.deleteNetwork),
    call(
      'NetworkDriver.AllocateNetwork',
      { NetworkID: 'string', IPv4Data: 'array?', IPv6Data: 'array?', Options: 'map?' },
      (h) => h.allocateNetwork,
      { Options: {}, IPv4Data: [], IPv6Data: [] },
    ),
    call('NetworkDriver.FreeNetwork', NET, (h) => h.freeNetwork),
    call(
      'NetworkDriver.CreateEndpoint',
      { ...EP, Interface: 'object?', Options: 'object?' },
      (h) => h.createEndpoint,
      { Options: {} },
    ),
    call('NetworkDriver.DeleteEndpoint', EP, (h) => h.deleteEndpoint),
    call('NetworkDriver.EndpointOperInfo', EP, (h) => h.endpointOperInfo),
    call('NetworkDriver.Join', { ...EP, SandboxKey: 'string?', Options: 'object?' }, (h) => h.join, {
      SandboxKey: '',
      Options: {},
    }),
    call('NetworkDriver.Leave', EP, (h) => h.leave),
    call('NetworkDriver.DiscoverNew', DISCOVERY, (h) => h.discoverNew),
    call('NetworkDriver.DiscoverDelete', DISCOVERY, (h) => h.discoverDelete),
    call(
      'NetworkDriver.ProgramExternalConnectivity',
      { ...EP, Options: 'object?' },
      (h) => h.programExternalConnectivity,
    ),
    call('NetworkDriver.RevokeExternalConnectivity', EP, (h) => h.revokeExternalConnectivity),
  ],
};
