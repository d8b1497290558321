import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseQueryString } from './query.ts';
import { observeRequests, UNMATCHED_ROUTE } from './request-observer.ts';
import { ApiServer } from './server/server.ts';

/** The route shapes berth's API declares: plain, parametric, and the plugin wildcard. */
function app(seen: string[]) {
  const a = new ApiServer({ parseQuery: parseQueryString, parseBody: () => undefined });
  a.get('/info', async () => ({}));
  a.delete('/volumes/:name', async (_req, reply) => reply.code(204).send());
  a.route(['GET', 'POST', 'DELETE'], '/plugins/*', async () => ({}));
  observeRequests(a, {
    requestDone: (method, route, status, seconds) => {
      assert.ok(seconds >= 0 && seconds < 5);
      seen.push(`${method} ${route} ${status}`);
    },
  });
  return a;
}

describe('observeRequests', () => {
  it('labels each request with its route pattern, never the raw URL, and its status', async () => {
    const seen: string[] = [];
    const a = app(seen);
    await a.inject('/info?x=1');
    await a.inject({ method: 'DELETE', url: '/volumes/v%201' });
    await a.inject({ method: 'POST', url: '/plugins/research/vol:latest/enable' });
    await a.inject('/plugins/research/vol:latest/json');
    await a.inject({ method: 'DELETE', url: '/plugins/research/vol' });
    await a.inject('/plugins/research/vol/not-an-action'); // unbounded client text stays out of the label
    await a.inject('/containers/json');
    assert.deepEqual(seen, [
      'GET /info 200',
      'DELETE /volumes/:name 204',
      'POST /plugins/:name/enable 200',
      'GET /plugins/:name/json 200',
      'DELETE /plugins/:name 200',
      'GET /plugins/:name 200',
      `GET ${UNMATCHED_ROUTE} 404`,
    ]);
    await a.close();
  });
});
