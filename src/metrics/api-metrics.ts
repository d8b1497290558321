/**
 * Engine API metrics, fed by the API's request observer: one counter increment and one histogram observation
 * per request, labelled with the route pattern (bounded), never the URL.
 *
 * @module
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { RequestObserver } from '../api/index.ts';

const API_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class ApiMetrics implements RequestObserver {
  readonly #requests: Counter<'method' | 'route' | 'code'>;
  readonly #durations: Histogram<'method' | 'route'>;

  constructor(registry: Registry) {
    this.#requests = new Counter({
      name: 'berth_api_requests_total',
      help: 'Engine API requests answered, by method, route pattern and status code',
      labelNames: ['method', 'route', 'code'],
      registers: [registry],
    });
    this.#durations = new Histogram({
      name: 'berth_api_request_duration_seconds',
      help: 'Time to answer an Engine API request, by method and route pattern (streams: until they end)',
      labelNames: ['method', 'route'],
      buckets: API_BUCKETS,
      registers: [registry],
    });
  }

  requestDone(method: string, route: string, statusCode: number, seconds: number): void {
    this.#requests.inc({ method, route, code: statusCode });
    this.#durations.observe({ method, route }, seconds);
  }
}
