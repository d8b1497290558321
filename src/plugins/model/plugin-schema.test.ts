import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PluginConfigSchemaJson,
  PluginSchemaJson,
  PluginSettingsSchemaJson,
  PluginUpdateSchemaJson,
} from './plugin-schema.generated.ts';
import { PluginConfigSchema, PluginSchema, PluginSettingsSchema } from './plugin-schema.ts';
import { PluginUpdateSchema } from './resources-schema.ts';

const asJson = (schema: object): unknown => JSON.parse(JSON.stringify(schema));

test('the generated schemas are what TypeBox builds from plugin-schema.ts (else: node --import tsx scripts/gen-plugin-schema.ts)', () => {
  assert.deepEqual(PluginSchemaJson, asJson(PluginSchema));
  assert.deepEqual(PluginConfigSchemaJson, asJson(PluginConfigSchema));
  assert.deepEqual(PluginSettingsSchemaJson, asJson(PluginSettingsSchema));
  assert.deepEqual(PluginUpdateSchemaJson, asJson(PluginUpdateSchema));
});
