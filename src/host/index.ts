export { ATOMIC_TEMP_PREFIX, writeFileAtomicSync } from './atomic-file.ts';
export { devicesFromPath, splitDevNumber } from './devices.ts';
export { type ExecutableLookup, findExecutable } from './executable.ts';
