export { type CreateVolume, type Volume, VolumeService } from './service.ts';
