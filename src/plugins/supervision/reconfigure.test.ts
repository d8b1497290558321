import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidParameterError, SystemError } from '../../errdefs/index.ts';
import { decodePlugin } from '../model/index.ts';
import type { PluginState } from '../store/index.ts';
import { newEntry } from './entry.ts';
import { reconfigure, reconfigureCommand } from './reconfigure.ts';
import { commandRefusal } from './transitions.ts';

const ID = 'a'.repeat(64);
const state = (enabled: boolean, env: string): PluginState => ({
  plugin: { ...decodePlugin({ Id: ID, Name: 'x/y:latest', Config: {} }), Enabled: enabled },
  runtime: env,
});

/** Records what reconfigure does; `failures` says which starts fail (1st, 2nd…) and how. */
function steps(failures: Record<number, Error> = {}) {
  const done: string[] = [];
  let starts = 0;
  return {
    done,
    steps: {
      persist: (e: ReturnType<typeof newEntry>, s: PluginState) => {
        done.push(`persist ${s.runtime}`);
        e.state = s;
      },
      stop: async () => void done.push('stop'),
      start: async (e: ReturnType<typeof newEntry>) => {
        done.push(`start ${e.state.runtime}`);
        const err = failures[++starts];
        if (err) throw err;
      },
      log: () => undefined,
    },
  };
}

describe('reconfigure()', () => {
  it('a disabled plugin only takes the new state', async () => {
    const e = newEntry(state(false, 'old'));
    const r = steps();
    assert.equal(await reconfigure(e, state(false, 'new'), r.steps), 'applied');
    assert.deepEqual(r.done, ['persist new']);
  });

  it('an enabled one is persisted, stopped and started with it', async () => {
    const e = newEntry(state(true, 'old'));
    const r = steps();
    assert.equal(await reconfigure(e, state(true, 'new'), r.steps), 'restarted');
    assert.deepEqual(r.done, ['persist new', 'stop', 'start new']);
    assert.equal(e.state.runtime, 'new');
  });

  it('a failed start rolls back and starts the old state; the error keeps its kind and says so', async () => {
    const e = newEntry(state(true, 'old'));
    const r = steps({ 1: new InvalidParameterError('mount source /nope does not exist') });
    await assert.rejects(
      reconfigure(e, state(true, 'new'), r.steps),
      (err: Error) =>
        err instanceof InvalidParameterError &&
        /new configuration failed: mount source \/nope does not exist; the configuration was rolled back and the plugin runs with its old configuration again$/.test(
          err.message,
        ),
    );
    assert.deepEqual(r.done, ['persist new', 'stop', 'start new', 'persist old', 'start old']);
    assert.equal(e.state.runtime, 'old');
  });

  it('says when the old configuration did not start either', async () => {
    const e = newEntry(state(true, 'old'));
    const r = steps({ 1: new SystemError('exited with code 3'), 2: new Error('gone') });
    await assert.rejects(
      reconfigure(e, state(true, 'new'), r.steps),
      /exited with code 3; the configuration was rolled back, but the old one did not start either: gone/,
    );
    assert.equal(e.state.runtime, 'old');
  });
});

describe('the set/update command rows', () => {
  const facts = { name: 'x/y:latest', inUse: false };
  it("keeps Docker's 409 for set on an enabled plugin without restart", () => {
    const command = reconfigureCommand('set', {})(true);
    assert.equal(
      commandRefusal(command, { ...facts, enabled: true }),
      'cannot set on an active plugin, disable plugin before setting',
    );
  });
  it('update without restart is refused while enabled, naming the way out', () => {
    assert.match(
      commandRefusal(reconfigureCommand('update', {})(true), { ...facts, enabled: true }) ?? '',
      /cannot update an active plugin: disable plugin x\/y:latest first, or update with restart/,
    );
  });
  it('with restart: allowed while enabled, refused in use without force', () => {
    const command = reconfigureCommand('set', { restart: true });
    assert.equal(commandRefusal(command(true), { ...facts, enabled: true }), undefined);
    assert.match(
      commandRefusal(command(true), { ...facts, enabled: true, inUse: true }) ?? '',
      /plugin x\/y:latest is in use: restarting it interrupts its users; .*force/,
    );
    assert.equal(
      commandRefusal(command(true), { ...facts, enabled: true, inUse: true, force: true }),
      undefined,
    );
    assert.equal(command(false), 'set', 'a disabled plugin in use is set as usual');
  });
});
