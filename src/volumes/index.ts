export { type Bind, bindMount, parseBind } from './binds.ts';
export type { ActiveMount } from './mounts.ts';
export { type CreateVolume, type Volume, VolumeService } from './service.ts';
