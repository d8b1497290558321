import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shellExitCode } from './exit-code.ts';

describe('shellExitCode()', () => {
  const cases: [number | null, NodeJS.Signals | null, number][] = [
    [0, null, 0],
    [3, null, 3],
    [null, 'SIGKILL', 137],
    [null, 'SIGTERM', 143],
    [null, 'SIGSEGV', 139],
    [null, 'SIGABRT', 134],
    [null, 'SIGBUS', 135],
    [null, 'SIGPIPE', 141],
    [null, 'SIGUSR1', 138],
    [null, 'SIGSYS', 159],
  ];
  for (const [code, signal, want] of cases) {
    it(`reports ${want} for code ${code} / ${signal}`, () => assert.equal(shellExitCode(code, signal), want));
  }
});
