/**
 * The TypeBox schemas of berth's `POST /plugins/{name}/update` body and of a plugin's `Resources`: the source of
 * the static types and of the JSON Schemas in plugin-schema.generated.ts (berthd checks against those, without
 * loading TypeBox; scripts/gen-plugin-schema.ts regenerates them).
 *
 * @module
 */
import { type Static, Type } from '@sinclair/typebox';

const int64 = () => Type.Optional(Type.Integer());

/** `Resources` as the update endpoint decodes it (Docker's `container.Resources` field names). */
export const PluginResourcesSchema = Type.Object({
  Memory: int64(),
  MemorySwap: int64(),
  NanoCpus: int64(),
  CpuShares: int64(),
  PidsLimit: int64(),
});

/** A plugin's limits: only the ones that are set (a missing field is no limit). */
export type PluginResources = Static<typeof PluginResourcesSchema>;

/** The limits part of the update body (the health part is decoded by health-config.ts). */
export const PluginUpdateSchema = Type.Object({
  Resources: Type.Optional(PluginResourcesSchema),
});
