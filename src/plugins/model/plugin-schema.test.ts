import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  PluginConfigSchemaJson,
  PluginSchemaJson,
  PluginSettingsSchemaJson,
  PluginUpdateSchemaJson,
} from './plugin-schema.generated.ts';
import { PluginConfigSchema, PluginSchema, PluginSettingsSchema } from './plugin-schema.ts';
import { PluginUpdateSchema } from './resources-schema.ts';
import { pluginValidatorsSource } from './validators-source.ts';

const asJson = (schema: object): unknown => JSON.parse(JSON.stringify(schema));

test('the generated schemas are what TypeBox builds from plugin-schema.ts (else: node --import tsx scripts/gen-plugin-schema.ts)', () => {
  assert.deepEqual(PluginSchemaJson, asJson(PluginSchema));
  assert.deepEqual(PluginConfigSchemaJson, asJson(PluginConfigSchema));
  assert.deepEqual(PluginSettingsSchemaJson, asJson(PluginSettingsSchema));
  assert.deepEqual(PluginUpdateSchemaJson, asJson(PluginUpdateSchema));
});

test('the generated validators are the ajv code for the generated schemas (else: node --import tsx scripts/gen-plugin-schema.ts)', () => {
  const file = new URL('./plugin-validators.generated.ts', import.meta.url);
  assert.equal(readFileSync(file, 'utf8'), pluginValidatorsSource());
});
