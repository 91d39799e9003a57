// Prometheus metrics for /metrics, named as kube-apiserver names them where they overlap.
import { Counter, Histogram, Registry, collectDefaultMetrics, register } from 'prom-client';

export class Metrics {
  private readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out by verb and HTTP response code.',
    labelNames: ['verb', 'code'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb.',
    labelNames: ['verb'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observeRequest(method: string, code: number, seconds: number): void {
    this.requests.inc({ verb: method, code: String(code) });
    this.latency.observe({ verb: method }, seconds);
  }

  /** This server's metrics and the process-wide ones of the default registry (the node agent's). */
  async text(): Promise<string> {
    return `${await this.registry.metrics()}\n${await register.metrics()}`;
  }
}
