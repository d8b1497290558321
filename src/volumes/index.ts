export { type Bind, bindMount, parseBind } from './binds.ts';
export type { ActiveMount } from './mounts.ts';
export { VolumeService } from './service.ts';
export type { CreateVolume, Volume } from './volume-types.ts';
