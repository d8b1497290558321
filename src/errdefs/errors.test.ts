import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConflictError,
  DeadlineError,
  ForbiddenError,
  HTTP_STATUS,
  httpStatusOf,
  InvalidParameterError,
  kindOf,
  NotFoundError,
  NotImplementedError,
  NotModifiedError,
  PayloadTooLargeError,
  RequestTimeoutError,
  SystemError,
  UnauthorizedError,
  UnavailableError,
} from './index.ts';

describe('errdefs', () => {
  const cases = [
    [new NotFoundError('x'), 'NotFound', 404],
    [new InvalidParameterError('x'), 'InvalidParameter', 400],
    [new ConflictError('x'), 'Conflict', 409],
    [new UnauthorizedError('x'), 'Unauthorized', 401],
    [new ForbiddenError('x'), 'Forbidden', 403],
    [new UnavailableError('x'), 'Unavailable', 503],
    [new NotImplementedError('x'), 'NotImplemented', 501],
    [new NotModifiedError('x'), 'NotModified', 304],
    [new DeadlineError('x'), 'Deadline', 504],
    [new RequestTimeoutError('x'), 'RequestTimeout', 408],
    [new PayloadTooLargeError('x'), 'TooLarge', 413],
    [new SystemError('x'), 'System', 500],
  ] as const;

  for (const [err, kind, status] of cases) {
    it(`${err.name} has kind ${kind} and HTTP status ${status}`, () => {
      assert.equal(err.kind, kind);
      assert.equal(kindOf(err), kind);
      assert.equal(httpStatusOf(err), status);
      assert.ok(err instanceof Error);
    });
  }

  it('maps every kind in the table exactly once', () => {
    assert.deepEqual(Object.keys(HTTP_STATUS).sort(), cases.map(([, k]) => k).sort());
  });

  it('treats foreign errors and non-errors as System 500', () => {
    assert.equal(kindOf(new TypeError('boom')), 'System');
    assert.equal(httpStatusOf('a string'), 500);
    assert.equal(httpStatusOf(undefined), 500);
  });

  it('keeps the cause', () => {
    const cause = new Error('ENOENT');
    assert.equal(new SystemError('Cannot read state', { cause }).cause, cause);
  });
});
