/**
 * berth's example log-driver plugin, on the plugin SDK: for each StartLogging it appends every decoded LogEntry as
 * one JSON line to `<LOG_DIR>/<ContainerID>.log` in its propagated mount (so the host sees the files), and answers
 * ReadLogs from those files (Follow is not supported: it answers with what is there). With NEVER_READ=1 it accepts
 * StartLogging but never reads the FIFO, to show what a stuck driver does to a run. Built by
 * `berth plugin build examples/log-driver`.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LogEntry, serve } from 'berth/plugin';

const LOG_DIR = process.env.LOG_DIR ?? '/data/logs';
const NEVER_READ = process.env.NEVER_READ === '1';

const logFile = (id: string) => join(LOG_DIR, `${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`);
const append = (id: string, value: unknown) => appendFileSync(logFile(id), `${JSON.stringify(value)}\n`);

/** The stored form: moby's field names, the line in base64 (any bytes survive). */
const stored = (e: LogEntry) => ({
  source: e.source,
  time_nano: String(e.timeNano),
  line: e.line.toString('base64'),
  partial: e.partial,
  partial_log_metadata: e.partialLogMetadata ?? null,
});

interface Stored {
  source: string;
  time_nano: string;
  line: string;
  partial: boolean;
  partial_log_metadata: { last: boolean; id: string; ordinal: number } | null;
}

async function keep(id: string, entries: AsyncIterable<LogEntry>): Promise<void> {
  for await (const e of entries) append(id, stored(e));
}

await serve(
  {
    log: {
      startLogging: ({ File, Info }, entries) => {
        mkdirSync(LOG_DIR, { recursive: true });
        append(Info.ContainerID, { event: 'start', file: File, info: Info });
        if (!NEVER_READ)
          void keep(Info.ContainerID, entries).catch((err) => console.error(`log-driver: ${err}`));
      },
      *readLogs({ Info, Config }) {
        let lines: string[] = [];
        try {
          lines = readFileSync(logFile(Info.ContainerID), 'utf8').split('\n').filter(Boolean);
        } catch {
          // nothing logged yet
        }
        const entries = lines
          .map((l) => JSON.parse(l) as Stored | { event: string })
          .filter((e) => !('event' in e));
        const wanted = Config.Tail >= 0 ? entries.slice(Math.max(0, entries.length - Config.Tail)) : entries;
        for (const e of wanted as Stored[]) {
          yield {
            source: e.source,
            timeNano: BigInt(e.time_nano),
            line: Buffer.from(e.line, 'base64'),
            partial: e.partial,
            ...(e.partial_log_metadata ? { partialLogMetadata: e.partial_log_metadata } : {}),
          };
        }
      },
    },
  },
  { socket: process.env.SOCKET_NAME ?? 'log-file.sock' },
);
console.log(`log-driver: logs in ${LOG_DIR}${NEVER_READ ? ' (never reading)' : ''}`);
