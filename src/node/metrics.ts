// The node agent's metrics, on prom-client's default registry (the API server's /metrics shows
// them): how long each step of starting a container takes, so the share of scheduling, images,
// CNI and runc in a pod's start can be read (bench/pods.ts does).
import { Histogram, register } from 'prom-client';

const steps = new Histogram({
  name: 'berth_runtime_step_duration_seconds',
  help: 'Time the runc runtime spends per step of starting a pod: sandbox (netns and CNI), volumes, image, rootfs, runc (conmon, create, start).',
  labelNames: ['step'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [register],
});

/** Records a step that began at `started` (performance.now()); returns now, the next step's start. */
export function observeStep(step: 'sandbox' | 'volumes' | 'image' | 'rootfs' | 'runc', started: number): number {
  const now = performance.now();
  steps.observe({ step }, (now - started) / 1000);
  return now;
}
