import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Plugin } from '../model/index.ts';
import type { PluginState } from '../store/index.ts';
import { updatedState } from './update.ts';

const state = {
  plugin: { Id: 'p', Name: 'p:latest' } as unknown as Plugin,
  health: { Retries: 7 },
} as PluginState;

test('an update with limits and health yields one state with both; 0 resets a health field to its default', () => {
  const next = updatedState(state, { resources: { PidsLimit: 50 }, health: { Interval: 2e9 }, warnings: [] });
  assert.deepEqual(next.plugin.Resources, { PidsLimit: 50 });
  assert.deepEqual(next.health, { Retries: 7, Interval: 2e9 });
  assert.equal(updatedState(state, { health: { Retries: 0 }, warnings: [] }).health, undefined);
  assert.equal(updatedState(state, { warnings: [] }), state);
});
