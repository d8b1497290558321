import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, testServer } from '../../test/sdk-support.ts';
import type { IpamDriver, NetworkDriver } from './index.ts';

describe('SDK IPAM and network drivers', () => {
  const calls: [string, unknown][] = [];
  const ipam: IpamDriver = {
    getDefaultAddressSpaces: () => ({
      LocalDefaultAddressSpace: 'local',
      GlobalDefaultAddressSpace: 'global',
    }),
    requestPool: (r) => {
      calls.push(['requestPool', r]);
      return { PoolID: 'p1', Pool: r.Pool || '10.9.0.0/24' };
    },
    releasePool: (r) => void calls.push(['releasePool', r]),
    requestAddress: (r) => ({ Address: `${r.Address || '10.9.0.2'}/24` }),
    releaseAddress: (r) => void calls.push(['releaseAddress', r]),
  };
  const network: NetworkDriver = {
    capabilities: () => ({ Scope: 'local', ConnectivityScope: 'local' }),
    createNetwork: (r) => void calls.push(['createNetwork', r]),
    deleteNetwork: (r) => void calls.push(['deleteNetwork', r]),
    createEndpoint: () => ({ Interface: { MacAddress: '02:42:ac:11:00:02' } }),
    deleteEndpoint: () => {},
    join: (r) => ({
      InterfaceName: { SrcName: `veth${r.EndpointID.slice(0, 4)}`, DstPrefix: 'eth' },
      Gateway: '10.9.0.1',
    }),
    leave: () => {},
  };
  let s: Awaited<ReturnType<typeof testServer>>;
  before(async () => {
    s = await testServer({ ipam, network });
  });
  after(() => s.stop());

  it('activates as both drivers', async () => {
    assert.deepEqual((await post(s.socket, 'Plugin.Activate')).body, {
      Implements: ['IpamDriver', 'NetworkDriver'],
    });
  });

  it('answers the IPAM calls in libnetwork shapes, with Go zero values filled in', async () => {
    assert.deepEqual((await post(s.socket, 'IpamDriver.GetCapabilities', {})).body, {});
    assert.deepEqual((await post(s.socket, 'IpamDriver.GetDefaultAddressSpaces', {})).body, {
      LocalDefaultAddressSpace: 'local',
      GlobalDefaultAddressSpace: 'global',
    });
    const pool = await post(s.socket, 'IpamDriver.RequestPool', { AddressSpace: 'local', V6: false });
    assert.deepEqual(pool.body, { PoolID: 'p1', Pool: '10.9.0.0/24' });
    assert.deepEqual(calls.at(-1), [
      'requestPool',
      { AddressSpace: 'local', Pool: '', SubPool: '', Options: {}, V6: false },
    ]);
    const addr = await post(s.socket, 'IpamDriver.RequestAddress', { PoolID: 'p1', Address: '10.9.0.7' });
    assert.deepEqual(addr.body, { Address: '10.9.0.7/24' });
    assert.deepEqual(
      (await post(s.socket, 'IpamDriver.ReleaseAddress', { PoolID: 'p1', Address: '10.9.0.7' })).body,
      {},
    );
    assert.deepEqual((await post(s.socket, 'IpamDriver.ReleasePool', { PoolID: 'p1' })).body, {});
    const bad = await post(s.socket, 'IpamDriver.ReleasePool', { PoolID: 7 });
    assert.match(String(bad.body.Err), /PoolID must be a string, not number 7/);
  });

  it('answers the network calls, {} for optional ones it does not implement', async () => {
    assert.deepEqual((await post(s.socket, 'NetworkDriver.GetCapabilities', {})).body, {
      Scope: 'local',
      ConnectivityScope: 'local',
    });
    const ipv4 = [{ AddressSpace: 'local', Pool: '10.9.0.0/24', Gateway: '10.9.0.1/24', AuxAddresses: {} }];
    await post(s.socket, 'NetworkDriver.CreateNetwork', { NetworkID: 'n1', IPv4Data: ipv4 });
    assert.deepEqual(calls.at(-1), [
      'createNetwork',
      { NetworkID: 'n1', IPv4Data: ipv4, IPv6Data: [], Options: {} },
    ]);
    const ep = await post(s.socket, 'NetworkDriver.CreateEndpoint', {
      NetworkID: 'n1',
      EndpointID: 'e1234',
      Interface: {},
    });
    assert.deepEqual(ep.body, { Interface: { MacAddress: '02:42:ac:11:00:02' } });
    const join = await post(s.socket, 'NetworkDriver.Join', {
      NetworkID: 'n1',
      EndpointID: 'e1234',
      SandboxKey: '/var/run/docker/netns/x',
    });
    assert.deepEqual(join.body, {
      InterfaceName: { SrcName: 'vethe123', DstPrefix: 'eth' },
      Gateway: '10.9.0.1',
    });
    for (const m of [
      'AllocateNetwork',
      'FreeNetwork',
      'EndpointOperInfo',
      'ProgramExternalConnectivity',
      'RevokeExternalConnectivity',
    ]) {
      assert.deepEqual(
        (await post(s.socket, `NetworkDriver.${m}`, { NetworkID: 'n1', EndpointID: 'e1234' })).body,
        {},
        m,
      );
    }
    assert.deepEqual(
      (await post(s.socket, 'NetworkDriver.DiscoverNew', { DiscoveryType: 1, DiscoveryData: {} })).body,
      {},
    );
    assert.deepEqual(
      (await post(s.socket, 'NetworkDriver.Leave', { NetworkID: 'n1', EndpointID: 'e1234' })).body,
      {},
    );
    const bad = await post(s.socket, 'NetworkDriver.Leave', { NetworkID: 'n1' });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.Err), /EndpointID is required/);
  });
});
