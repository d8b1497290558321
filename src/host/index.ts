export { devicesFromPath, splitDevNumber } from './devices.ts';
export { type ExecutableLookup, findExecutable } from './executable.ts';
