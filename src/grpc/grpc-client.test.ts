import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UnavailableError } from '../errdefs/index.ts';
import {
  CONTAINERD_INTROSPECTION_PROTO,
  CRI_PROTO,
  loadProtos,
  serviceOf,
  unary,
  unixClient,
} from './grpc-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-grpc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('grpc', () => {
  it('loads the vendored CRI v1 and containerd Introspection services', () => {
    const cri = serviceOf(loadProtos(CRI_PROTO), 'runtime.v1.RuntimeService');
    for (const method of ['RunPodSandbox', 'CreateContainer', 'StartContainer', 'ContainerStatus', 'Status'])
      assert.ok(method in cri.service, method);
    const intro = serviceOf(
      loadProtos(CONTAINERD_INTROSPECTION_PROTO),
      'containerd.services.introspection.v1.Introspection',
    );
    assert.ok('Plugins' in intro.service);
  });

  it('keeps proto field names (runtime_handler, not runtimeHandler)', () => {
    const cri = serviceOf(loadProtos(CRI_PROTO), 'runtime.v1.RuntimeService');
    const run = cri.service.RunPodSandbox as unknown as {
      requestSerialize(v: unknown): Buffer;
      requestDeserialize(b: Buffer): Record<string, unknown>;
    };
    const decoded = run.requestDeserialize(run.requestSerialize({ runtime_handler: 'gvisor' }));
    assert.equal(decoded.runtime_handler, 'gvisor');
  });

  it('names a missing service as a bug', () => {
    assert.throws(
      () => serviceOf(loadProtos(CRI_PROTO), 'runtime.v1.Nope'),
      /no gRPC service runtime.v1.Nope/,
    );
  });

  it('turns "nothing listening" into an UnavailableError', async () => {
    const client = unixClient(
      serviceOf(loadProtos(CRI_PROTO), 'runtime.v1.RuntimeService'),
      join(dir, 'none.sock'),
    );
    try {
      await assert.rejects(
        unary(client, 'Version', {}, { timeoutMs: 2000 }),
        (err) => err instanceof UnavailableError,
      );
    } finally {
      client.close();
    }
  });
});
