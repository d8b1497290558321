/**
 * berth's example authorization plugin: denies every Engine API request whose method and path match
 * DENY_PATTERN (a regular expression tested against "METHOD /path", e.g. "^DELETE /plugins/"), allows the rest.
 * Node standard library only; packaged by ../local-volume/package.ts.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';

const SOCKET = '/run/docker/plugins/authz.sock';
const source = process.env.DENY_PATTERN ?? '(?!)';
const pattern = new RegExp(source);

function decide(body: Record<string, unknown>): Record<string, unknown> {
  const request = `${String(body.RequestMethod)} ${String(body.RequestUri).replace(/^\/v\d+\.\d+/, '')}`;
  if (pattern.test(request)) return { Allow: false, Msg: `${request} is denied by policy ${source}` };
  return { Allow: true };
}

rmSync(SOCKET, { force: true });
createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8').trim();
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    const answer =
      req.url === '/Plugin.Activate'
        ? { Implements: ['authz'] }
        : req.url === '/AuthZPlugin.AuthZReq'
          ? decide(body)
          : req.url === '/AuthZPlugin.AuthZRes'
            ? { Allow: true }
            : { Err: `unknown method ${req.url}` };
    res.writeHead(answer.Err ? 404 : 200, { 'Content-Type': 'application/vnd.docker.plugins.v1+json' });
    res.end(JSON.stringify(answer));
  });
}).listen(SOCKET, () => console.log(`authz-deny: denying ${source}`));
process.on('SIGTERM', () => process.exit(0));
