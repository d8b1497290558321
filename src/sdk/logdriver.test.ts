import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { post, testServer } from '../../test/sdk-support.ts';
import {
  decodeLogEntry,
  encodeLogEntry,
  type LogEntry,
  LogEntryDecoder,
  type ReadLogsRequest,
  type StartLoggingRequest,
} from './index.ts';

async function decodeAll(bytes: Buffer): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of Readable.from([bytes]).pipe(new LogEntryDecoder())) out.push(e as LogEntry);
  return out;
}

describe('LogEntry framing', () => {
  it('encodes as moby does: 4-byte big-endian length, then protobuf fields 1-5', () => {
    const frame = encodeLogEntry({ source: 'stdout', timeNano: 5, line: 'hi' });
    assert.equal(frame.toString('hex'), '0000000e' + '0a067374646f7574' + '1005' + '1a026869');
  });

  it('round-trips every field, 64-bit times exactly, across chunk boundaries', async () => {
    const entry = {
      source: 'stderr',
      timeNano: 1_764_000_000_123_456_789n,
      line: Buffer.from('part'),
      partial: true,
      partialLogMetadata: { last: false, id: 'p1', ordinal: 2 },
    };
    const bytes = Buffer.concat([encodeLogEntry(entry), encodeLogEntry({ source: 'stdout', line: 'x' })]);
    assert.deepEqual(decodeLogEntry(bytes.subarray(4, 4 + bytes.readUInt32BE(0))), entry);
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    const out: LogEntry[] = [];
    for await (const e of Readable.from(chunks).pipe(new LogEntryDecoder())) out.push(e as LogEntry);
    assert.deepEqual(out, [
      entry,
      { source: 'stdout', timeNano: 0n, line: Buffer.from('x'), partial: false },
    ]);
  });

  it('refuses oversized and torn records', async () => {
    const big = Buffer.alloc(4);
    big.writeUInt32BE(2_000_000);
    await assert.rejects(decodeAll(big), /larger than 1000000/);
    await assert.rejects(decodeAll(encodeLogEntry({ line: 'abc' }).subarray(0, 6)), /ended inside a record/);
  });
});

describe('SDK log driver', () => {
  const received: LogEntry[] = [];
  const started: StartLoggingRequest[] = [];
  let done: Promise<void> = Promise.resolve();
  let readReq: ReadLogsRequest | undefined;
  let s: Awaited<ReturnType<typeof testServer>>;
  before(async () => {
    s = await testServer({
      log: {
        startLogging: (req, entries) => {
          started.push(req);
          done = (async () => {
            for await (const e of entries) received.push(e);
          })();
        },
        readLogs: function* (req) {
          readReq = req;
          yield { source: 'stdout', timeNano: 1, line: 'one' };
          yield { source: 'stdout', timeNano: 2, line: 'two-', partial: true };
        },
      },
    });
  });
  after(() => s.stop());

  it('activates as LogDriver and reports ReadLogs', async () => {
    assert.deepEqual((await post(s.socket, 'Plugin.Activate')).body, { Implements: ['LogDriver'] });
    assert.deepEqual((await post(s.socket, 'LogDriver.Capabilities', {})).body, { Cap: { ReadLogs: true } });
  });

  it('reads the FIFO of StartLogging as decoded entries until the daemon closes it after StopLogging', async () => {
    const fifo = join(s.dir, 'c1');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    // As moby: the writer's open waits for the plugin to open the reading end.
    const writer = open(fifo, 'w');
    const answer = await post(s.socket, 'LogDriver.StartLogging', {
      File: fifo,
      Info: { ContainerID: 'c1', ContainerName: '/web', Config: { tag: 't' } },
    });
    assert.deepEqual([answer.status, answer.body], [200, {}]);
    assert.equal(started[0]?.Info.ContainerID, 'c1');
    assert.deepEqual(started[0]?.Info.Config, { tag: 't' });
    assert.deepEqual(started[0]?.Info.ContainerLabels, {});
    const w = await writer;
    await w.write(Buffer.concat([encodeLogEntry({ source: 'stdout', timeNano: 7, line: 'hello' })]));
    await w.write(encodeLogEntry({ source: 'stderr', timeNano: 8, line: 'world' }));
    assert.deepEqual((await post(s.socket, 'LogDriver.StopLogging', { File: fifo })).body, {});
    await w.close();
    await done;
    assert.deepEqual(
      received.map((e) => [e.source, e.timeNano, String(e.line)]),
      [
        ['stdout', 7n, 'hello'],
        ['stderr', 8n, 'world'],
      ],
    );
  });

  it('streams ReadLogs answers as framed entries (newline back on complete lines), with the read config defaulted', async () => {
    const a = await post(s.socket, 'LogDriver.ReadLogs', {
      Info: { ContainerID: 'c1' },
      Config: { Tail: 2 },
    });
    assert.equal(a.contentType, 'application/x-json-stream');
    assert.deepEqual(
      (await decodeAll(a.raw)).map((e) => String(e.line)),
      ['one\n', 'two-'],
    );
    assert.deepEqual(readReq?.Config, { Since: '', Until: '', Tail: 2, Follow: false });
  });

  it('refuses StartLogging without a File', async () => {
    const a = await post(s.socket, 'LogDriver.StartLogging', { Info: {} });
    assert.equal(a.status, 400);
    assert.match(String(a.body.Err), /File is required/);
  });
});
