/**
 * berthd's memory while it unpacks plugin contexts of many tiny files (issue 12: it used to grow ~3.7 KB per entry).
 * Uploads a generated tar of `--files` one-byte files (never held in memory) to `POST /plugins/create`, once alone and
 * then two at once, and reports berthd's peak RSS growth (VmHWM from /proc, over a warmed-up baseline) and the time.
 *
 *   node --import tsx bench/unpack-memory.ts [--files 100000]      (root; builds nothing: run npm run build first)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { startBerthd, stopBerthd } from './fixtures/berthd.ts';
import { manyEntriesTar } from './fixtures/many-entries.ts';

const { values } = parseArgs({ options: { files: { type: 'string', default: '100000' } } });
const files = Number(values.files);

/** VmHWM (peak) and VmRSS of a process, in MB. */
function memory(pid: number): { peak: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { peak: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
}

async function upload(agent: Agent, name: string, count: number): Promise<number> {
  const { stream } = manyEntriesTar(count);
  const res = await request(`http://berth/v1.41/plugins/create?name=${name}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-tar' },
    body: stream,
  });
  const text = await res.body.text();
  if (res.statusCode !== 204) throw new Error(`create ${name}: ${res.statusCode} ${text}`);
  return res.statusCode;
}

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-unpack-'));
const d = await startBerthd(dir, ['--no-runtime-smoke-test']);
const agent = new Agent({ connect: { socketPath: d.socket } });
const pid = d.child.pid as number;
try {
  await upload(agent, 'warmup', 2000); // JIT, the API server, node-tar loaded: the baseline is a daemon at work
  const base = memory(pid);
  let t = performance.now();
  await upload(agent, 'one', files);
  const one = { ms: performance.now() - t, ...memory(pid) };
  t = performance.now();
  await Promise.all([upload(agent, 'two-a', files), upload(agent, 'two-b', files)]);
  const two = { ms: performance.now() - t, ...memory(pid) };
  const mb = (n: number) => `${n.toFixed(1)} MB`;
  console.log(`baseline: RSS ${mb(base.rss)}, peak ${mb(base.peak)}`);
  console.log(
    `one upload of ${files} files: ${(one.ms / 1000).toFixed(1)} s, peak RSS +${mb(one.peak - base.peak)}`,
  );
  console.log(
    `two uploads at once: ${(two.ms / 1000).toFixed(1)} s, peak RSS +${mb(two.peak - base.peak)} over the baseline`,
  );
} finally {
  await agent.close();
  await stopBerthd(d);
  rmSync(dir, { recursive: true, force: true });
}
