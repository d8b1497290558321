import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError } from '../../errdefs/index.ts';
import type { HealthConfig } from '../../plugins/index.ts';
import { EventLog, eventMatches } from '../events.ts';
import type { PluginsPort } from '../ports.ts';
import { updatePlugin } from './plugin-update.ts';

function fakePort(): { port: PluginsPort; calls: [string, HealthConfig][] } {
  const calls: [string, HealthConfig][] = [];
  const port = {
    updateHealth: async (ref: string, update: HealthConfig) => {
      if (ref === 'nope') throw new NotFoundError('plugin "nope" not found');
      calls.push([ref, update]);
    },
  } as unknown as PluginsPort;
  return { port, calls };
}

describe('POST /plugins/{name}/update', () => {
  it('decodes the body as Go does and answers Docker\'s {"Warnings"} with every ignored key', async () => {
    const { port, calls } = fakePort();
    const answer = await updatePlugin(port, 'vol', {
      health: { interval: 10e9, TIMEOUT: 2e9, retries: 3, test: ['CMD'] },
      Bogus: 1,
    });
    assert.deepEqual(calls, [['vol', { Interval: 10e9, Timeout: 2e9, Retries: 3 }]]);
    assert.deepEqual(answer, {
      Warnings: ['body.Bogus: unknown key ignored', 'body.Health.test: unknown key ignored'],
    });
  });

  it('refuses a bad value before anything changes, naming the field and the fix', async () => {
    const { port, calls } = fakePort();
    await assert.rejects(updatePlugin(port, 'vol', { Health: { Interval: -1 } }), {
      name: 'InvalidParameterError',
      message: /^body.Health.Interval cannot be less than 1ms/,
    });
    await assert.rejects(updatePlugin(port, 'vol', [1]), {
      message: /^the body must be a JSON object such as/,
    });
    await assert.rejects(updatePlugin(port, 'vol', undefined), { name: 'InvalidParameterError' });
    assert.deepEqual(calls, []);
  });

  it('answers 404 for an unknown plugin even with nothing to change', async () => {
    await assert.rejects(updatePlugin(fakePort().port, 'nope', {}), { name: 'NotFoundError' });
  });

  it("matches health_status events by the verb alone, as dockerd's event=health_status filter does", () => {
    const e = new EventLog().publish({
      Type: 'plugin',
      Action: 'health_status: unhealthy',
      Actor: { ID: 'abc', Attributes: { name: 'vol:latest' } },
    });
    assert.equal(e.status, undefined, 'plugin events carry no legacy status (as dockerd)');
    for (const event of ['health_status', 'health_status: unhealthy'])
      assert.ok(eventMatches(e, new Map([['event', [event]]])), event);
    assert.ok(!eventMatches(e, new Map([['event', ['health_status: healthy']]])));
  });

  it('saves limits and health together in one update, so a refused limit change leaves health as it was', async () => {
    const calls: unknown[] = [];
    const port = {
      update: async (...args: unknown[]) => {
        calls.push(['update', ...args]);
      },
      updateHealth: async (...args: unknown[]) => {
        calls.push(['updateHealth', ...args]);
      },
    } as unknown as PluginsPort;
    await updatePlugin(
      port,
      'vol',
      { resources: { PidsLimit: 5 }, health: { retries: 2 } },
      { restart: true },
    );
    assert.deepEqual(calls, [
      [
        'update',
        'vol',
        { resources: { PidsLimit: 5 }, health: { Retries: 2 }, warnings: [] },
        { restart: true },
      ],
    ]);
  });
});
