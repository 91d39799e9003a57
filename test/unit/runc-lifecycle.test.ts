import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../src/api/core/pods.js';
import { KUBELET_BACKOFF } from '../../src/node/probes/backoff.js';
import { afterExit, hookFailure, hostPortMappings, terminatedState } from '../../src/node/runtime/runc/lifecycle.js';

const NOW = Date.parse('2026-01-01T00:01:00Z');
const ended = (exitCode: number, at = '2026-01-01T00:01:00Z'): v1.ContainerStateTerminated => ({ exitCode, finishedAt: at });
const app: v1.Container = { name: 'app' };
const sidecar: v1.Container = { name: 'side', restartPolicy: 'Always' };

test('afterExit: restart policies, init containers and sidecars', () => {
  const after = (c: v1.Container, isInit: boolean, policy: string, code: number) => afterExit(c, isInit, policy, ended(code), undefined, NOW, KUBELET_BACKOFF).kind;
  assert.equal(after(app, false, 'Always', 0), 'restart');
  assert.equal(after(app, false, 'OnFailure', 0), 'done');
  assert.equal(after(app, false, 'OnFailure', 1), 'restart');
  assert.equal(after(app, false, 'Never', 1), 'done');
  // Init containers run until they succeed, except under Never.
  assert.equal(after(app, true, 'Always', 0), 'done');
  assert.equal(after(app, true, 'Always', 1), 'restart');
  assert.equal(after(app, true, 'Never', 1), 'done');
  // Sidecars restart whatever the pod's policy and exit code.
  assert.equal(after(sidecar, true, 'Never', 0), 'restart');
});

test('afterExit: the first restart at once, then the back-off doubles', () => {
  const first = afterExit(app, false, 'Always', ended(1), undefined, NOW, KUBELET_BACKOFF);
  assert.equal(first.kind, 'restart');
  const entry = first.kind === 'restart' ? first.entry : undefined;
  const second = afterExit(app, false, 'Always', ended(1), entry, NOW, KUBELET_BACKOFF);
  assert.deepEqual(second, { kind: 'wait', backOffMs: 10_000, until: NOW + 10_000 });
  const later = afterExit(app, false, 'Always', ended(1), entry, NOW + 10_000, KUBELET_BACKOFF);
  assert.equal(later.kind, 'restart');
  assert.equal(later.kind === 'restart' && later.entry.backOffMs, 20_000);
});

test('terminatedState: reasons as the kubelet reports them', () => {
  const state = (exit: Parameters<typeof terminatedState>[0]) => terminatedState(exit, 's', 'runc://x', 'f').reason;
  assert.equal(state({ exitCode: 0, oomKilled: false, finishedAt: 1 }), 'Completed');
  assert.equal(state({ exitCode: 2, oomKilled: false, finishedAt: 1 }), 'Error');
  assert.equal(state({ exitCode: 137, oomKilled: true, finishedAt: 1 }), 'OOMKilled');
  assert.equal(state({ exitCode: 255, oomKilled: false, finishedAt: 0, lost: true }), 'Unknown');
  assert.deepEqual(terminatedState({ exitCode: 3, oomKilled: false, finishedAt: 1 }, 's', 'runc://x', 'f'), { exitCode: 3, reason: 'Error', startedAt: 's', finishedAt: 'f', containerID: 'runc://x' });
});

test('hook failures and host ports', () => {
  const pod: Pod = {
    metadata: { name: 'web-0', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'app', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '127.0.0.1' }, { containerPort: 9000 }] }] },
  };
  assert.equal(
    hookFailure(pod, pod.spec!.containers[0]!, { exec: { command: ['sh', '-c', 'exit 1'] } }, 'boom'),
    'Exec lifecycle hook (["sh","-c","exit 1"]) for Container "app" in Pod "web-0_default(u1)" failed - error: boom',
  );
  assert.deepEqual(hostPortMappings(pod), [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
  ]);
});
