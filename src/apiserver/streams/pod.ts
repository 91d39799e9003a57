// Which pod and container a streaming request addresses, checked as kube-apiserver's pod REST
// (streamLocation, LogLocation) and the kubelet (validateContainerLogStatus, findContainer) check
// them, with their words. Pure.
import type { Pod } from '../../api/core/pods.js';
import { badRequest, StatusError } from '../../machinery/errors.js';
import { StreamError } from '../../node/streams/types.js';
import { parseApiPath } from '../request.js';

export type StreamSubresource = 'exec' | 'attach' | 'portforward' | 'log';
const SUBRESOURCES = new Set<string>(['exec', 'attach', 'portforward', 'log']);

export interface StreamTarget {
  namespace: string;
  name: string;
  subresource: StreamSubresource;
}

/** The pod and subresource of /api/v1/namespaces/{ns}/pods/{name}/{exec|attach|portforward|log}. */
export function streamTarget(pathname: string): StreamTarget | undefined {
  let p;
  try {
    p = parseApiPath(pathname);
  } catch {
    return undefined; // a malformed %-escape
  }
  if (p.type !== 'resource' || p.watchPath) return undefined;
  const r = p.path;
  if (r.group !== '' || r.version !== 'v1' || r.resource !== 'pods' || !r.namespace || !r.name || !r.subresource) return undefined;
  if (!SUBRESOURCES.has(r.subresource)) return undefined;
  return { namespace: r.namespace, name: r.name, subresource: r.subresource as StreamSubresource };
}

const names = (cs: { name: string }[] | undefined): string[] => (cs ?? []).map((c) => c.name);

/** The container a request names, or the pod's only one; kube-apiserver's errors otherwise. */
export function resolveContainer(pod: Pod, container: string | null | undefined): string {
  const name = pod.metadata.name ?? '';
  const spec = pod.spec ?? { containers: [] };
  const containers = names(spec.containers);
  if (!container) {
    if (containers.length === 1) return containers[0];
    if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    const inits = names(spec.initContainers);
    if (inits.length) msg += ` or one of the init containers: [${inits.join(' ')}]`;
    const ephemeral = names(spec.ephemeralContainers);
    if (ephemeral.length) msg += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
    throw badRequest(msg);
  }
  const all = [...containers, ...names(spec.initContainers), ...names(spec.ephemeralContainers)];
  if (!all.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

/** The node the pod runs on; kube-apiserver's error when it has none. */
export function nodeOf(pod: Pod): string {
  const node = pod.spec?.nodeName;
  if (!node) throw badRequest(`pod ${pod.metadata.name ?? ''} does not have a host assigned`);
  return node;
}

type ContainerStatusLike = NonNullable<NonNullable<Pod['status']>['containerStatuses']>[number];

function statusOf(pod: Pod, container: string): ContainerStatusLike | undefined {
  const st = pod.status ?? {};
  return [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? []), ...(st.ephemeralContainerStatuses ?? [])].find(
    (s) => s.name === container,
  );
}

/**
 * The kubelet's findContainer for exec and attach: the container must be running. A kubelet
 * error (StreamError): answered in plain text, as the kubelet's streaming server does.
 */
export function checkRunning(pod: Pod, container: string): void {
  if (!statusOf(pod, container)?.state?.running) throw new StreamError(`container not found ("${container}")`, 500);
}

/** The kubelet's validateContainerLogStatus: whether the container (or its previous instance) has logs. */
export function checkLogStatus(pod: Pod, container: string, previous: boolean): void {
  const pod_ = pod.metadata.name ?? '';
  const fail = (why: string) => badRequest(`container "${container}" in pod "${pod_}" ${why}`);
  const s = statusOf(pod, container);
  if (!s) throw fail('is not available');
  const last = s.lastState?.terminated;
  const { waiting, running, terminated } = s.state ?? {};
  if (previous) {
    if (!last?.containerID) throw badRequest(`previous terminated container "${container}" in pod "${pod_}" not found`);
    return;
  }
  if (running) return;
  if (terminated) {
    if (!terminated.containerID && !last?.containerID) throw fail('is terminated');
    return;
  }
  if (last) {
    if (!last.containerID) throw fail('is terminated');
    return;
  }
  if (waiting) {
    if (waiting.reason === 'ErrImagePull') throw fail(`is waiting to start: image can't be pulled`);
    if (waiting.reason === 'ImagePullBackOff') throw fail('is waiting to start: trying and failing to pull image');
    throw fail(`is waiting to start: ${waiting.reason ?? ''}`);
  }
  throw fail('is waiting to start - no logs yet');
}

export interface LogParams {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  /** Nanoseconds since the epoch. */
  sinceNanos?: bigint;
  stream?: 'stdout' | 'stderr';
}

const isTrue = (v: string | null): boolean => v === 'true' || v === '1';

/** PodLogOptions from the query, validated as ValidatePodLogOptions does. */
export function logParams(q: URLSearchParams, podName: string, now = Date.now()): LogParams {
  const int = (key: string): number | undefined => {
    const v = q.get(key);
    if (v === null || v === '') return undefined;
    if (!/^-?\d+$/.test(v)) throw badRequest(`${key}: Invalid value: "${v}": must be an integer`);
    return Number(v);
  };
  const errs: string[] = [];
  const tailLines = int('tailLines');
  const limitBytes = int('limitBytes');
  const sinceSeconds = int('sinceSeconds');
  const sinceTime = q.get('sinceTime') || undefined;
  if (tailLines !== undefined && tailLines < 0) errs.push(`tailLines: Invalid value: ${tailLines}: must be greater than or equal to 0`);
  if (limitBytes !== undefined && limitBytes < 1) errs.push(`limitBytes: Invalid value: ${limitBytes}: must be greater than 0`);
  if (sinceSeconds !== undefined && sinceSeconds < 1) errs.push(`sinceSeconds: Invalid value: ${sinceSeconds}: must be greater than 0`);
  if (sinceSeconds !== undefined && sinceTime) errs.push('[]: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
  const stream = q.get('stream') || undefined;
  if (stream !== undefined && !['All', 'Stdout', 'Stderr'].includes(stream))
    errs.push(`stream: Unsupported value: "${stream}": supported values: "All", "Stderr", "Stdout"`);
  if (tailLines !== undefined && stream !== undefined && stream !== 'All')
    errs.push(`tailLines: Forbidden: cannot be set when stream is not "All"`);
  let sinceNanos: bigint | undefined;
  if (sinceTime) {
    const ms = Date.parse(sinceTime);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(sinceTime) || Number.isNaN(ms))
      throw badRequest(`sinceTime: Invalid value: "${sinceTime}": parsing time "${sinceTime}" as RFC3339 failed`);
    // metav1.Time has second precision.
    sinceNanos = BigInt(Math.floor(ms / 1000)) * 1_000_000_000n;
  } else if (sinceSeconds !== undefined) sinceNanos = BigInt(now - sinceSeconds * 1000) * 1_000_000n;
  if (errs.length)
    throw new StatusError(422, 'Invalid', `PodLogOptions "${podName}" is invalid: ${errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`}`, {
      name: podName,
      kind: 'PodLogOptions',
    });
  return {
    container: q.get('container') || undefined,
    follow: isTrue(q.get('follow')),
    previous: isTrue(q.get('previous')),
    timestamps: isTrue(q.get('timestamps')),
    tailLines,
    limitBytes,
    sinceNanos,
    ...(stream === 'Stdout' ? { stream: 'stdout' as const } : stream === 'Stderr' ? { stream: 'stderr' as const } : {}),
  };
}

export interface ExecParams {
  container?: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** PodExecOptions / PodAttachOptions from the query. */
export function execParams(q: URLSearchParams, exec: boolean): ExecParams {
  const p: ExecParams = {
    container: q.get('container') || undefined,
    command: q.getAll('command'),
    stdin: isTrue(q.get('stdin')),
    stdout: isTrue(q.get('stdout')),
    stderr: isTrue(q.get('stderr')),
    tty: isTrue(q.get('tty')),
  };
  if (!p.stdin && !p.stdout && !p.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (exec && p.command.length === 0) throw badRequest('you must specify at least one command for the container');
  return p;
}

/** Ports of PodPortForwardOptions (`ports`, repeated or comma separated); empty when none given. */
export function portParams(q: URLSearchParams): number[] {
  const ports: number[] = [];
  for (const v of q.getAll('ports'))
    for (const s of v.split(',')) {
      if (!s.trim()) continue;
      const n = Number(s.trim());
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw badRequest(`invalid port ${JSON.stringify(s.trim())}`);
      ports.push(n);
    }
  return ports;
}
