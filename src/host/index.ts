export {
  ATOMIC_TEMP_PREFIX,
  type PreparedWrite,
  prepareFileAtomic,
  writeFileAtomicSync,
} from './atomic-file.ts';
export { countBulkBytes } from './bulk-scavenge.ts';
export { boundingCapabilities } from './capabilities.ts';
export { devicesFromPath, splitDevNumber } from './devices.ts';
export { errnoOf, errnoText, fromErrno, kindOfErrno } from './errno.ts';
export { type ExecutableLookup, findExecutable } from './executable.ts';
export { groupId } from './groups.ts';
export { mallocTrim, mallocTrimUnavailable } from './malloc-trim.ts';
export { type PhaseRecord, traceBegin, traceEnd, traceMark } from './phase-trace.ts';
export { MAX_SOCKET_PATH, type SocketAddress, socketAddress } from './socket-path.ts';
export { v8Gc } from './v8-gc.ts';
