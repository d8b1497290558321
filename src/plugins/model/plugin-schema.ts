/**
 * The Engine API `Plugin` object (`GET /plugins/{name}/json`) as TypeBox schemas, which give both the JSON
 * Schema that ajv checks input against and the static TypeScript types.
 *
 * Defaults are Go's zero values, so a missing key decodes as dockerd would decode it: `""`, `false`,
 * `null` for slices and pointers. Unknown keys are ignored, as Go's decoder does.
 *
 * @module
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { PluginResourcesSchema } from './resources-schema.ts';

/** `T | null`, encoded as a JSON Schema type list so ajv reports one clean error. */
function nullable<T extends TSchema>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type as string, 'null'], default: null });
}

const str = () => Type.String({ default: '' });
const bool = () => Type.Boolean({ default: false });
const strings = () => nullable(Type.Array(Type.String()));

export const PluginMountSchema = Type.Object({
  Name: str(),
  Description: str(),
  Settable: strings(),
  Source: nullable(Type.String()),
  Destination: str(),
  Type: str(),
  Options: strings(),
});

export const PluginEnvSchema = Type.Object({
  Name: str(),
  Description: str(),
  Settable: strings(),
  Value: nullable(Type.String()),
});

export const PluginArgsSchema = Type.Object(
  { Name: str(), Description: str(), Settable: strings(), Value: strings() },
  { default: {} },
);

export const PluginDeviceSchema = Type.Object({
  Name: str(),
  Description: str(),
  Settable: strings(),
  Path: nullable(Type.String()),
});

const uint32 = () => Type.Integer({ minimum: 0, maximum: 0xffffffff });

/** The plugin manifest (`config.json` of a plugin, `Config` of the Plugin object). */
export const PluginConfigSchema = Type.Object({
  Args: PluginArgsSchema,
  Description: str(),
  DockerVersion: Type.Optional(Type.String()),
  Documentation: str(),
  Entrypoint: strings(),
  Env: nullable(Type.Array(PluginEnvSchema)),
  Interface: Type.Object(
    { Types: strings(), Socket: str(), ProtocolScheme: Type.Optional(Type.String()) },
    { default: {} },
  ),
  IpcHost: bool(),
  Linux: Type.Object(
    { AllowAllDevices: bool(), Capabilities: strings(), Devices: nullable(Type.Array(PluginDeviceSchema)) },
    { default: {} },
  ),
  Mounts: nullable(Type.Array(PluginMountSchema)),
  Network: Type.Object({ Type: str() }, { default: {} }),
  PidHost: bool(),
  PropagatedMount: str(),
  User: Type.Object({ UID: Type.Optional(uint32()), GID: Type.Optional(uint32()) }, { default: {} }),
  WorkDir: str(),
  rootfs: Type.Optional(Type.Object({ type: str(), diff_ids: strings() })),
});

/** What the user set: the values the spec is built from. Arrays are never null here. */
export const PluginSettingsSchema = Type.Object({
  Args: Type.Array(Type.String(), { default: [] }),
  Devices: Type.Array(PluginDeviceSchema, { default: [] }),
  Env: Type.Array(Type.String(), { default: [] }),
  Mounts: Type.Array(PluginMountSchema, { default: [] }),
});

/** The Engine API Plugin object. `Settings` may be omitted: it is then initialised from `Config`. */
export const PluginSchema = Type.Object({
  Config: PluginConfigSchema,
  Enabled: bool(),
  Id: Type.String(),
  Name: str(),
  PluginReference: Type.Optional(Type.String()),
  Settings: Type.Optional(PluginSettingsSchema),
  /** berth's resource limits (absent unless set with `berth plugin update`; dockerd has none). */
  Resources: Type.Optional(PluginResourcesSchema),
});

export type PluginMount = Static<typeof PluginMountSchema>;
export type PluginEnv = Static<typeof PluginEnvSchema>;
export type PluginArgs = Static<typeof PluginArgsSchema>;
export type PluginDevice = Static<typeof PluginDeviceSchema>;
export type PluginConfig = Static<typeof PluginConfigSchema>;
export type PluginSettings = Static<typeof PluginSettingsSchema>;
/** A decoded plugin: `Settings` always present. */
export type Plugin = Omit<Static<typeof PluginSchema>, 'Settings'> & { Settings: PluginSettings };
