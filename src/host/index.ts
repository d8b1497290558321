export { devicesFromPath, splitDevNumber } from './devices.ts';
