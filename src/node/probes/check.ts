// Runs one probe check, as the kubelet's probers do (pkg/probe/{exec,http,tcp}): the result
// and its output in the kubelet's words, Go's error wording adapted from node's errors.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { ProbeOutcome } from './state.js';

/** The kubelet keeps at most this much of a probe's output or response body. */
export const MAX_OUTPUT_BYTES = 10 * 1024;
/** Go's http client gives up after this many redirects. */
const MAX_REDIRECTS = 10;

/** Runs a command in the container (the runtime provides it); it must give up after `timeoutMs`. */
export type ExecRunner = (
  command: string[],
  timeoutMs: number,
) => Promise<{ exitCode: number; output: string | Buffer; timedOut?: boolean }>;

export interface CheckTarget {
  podIP: string;
  /** The container's ports, for probes naming one. */
  ports?: readonly v1.ContainerPort[];
  exec?: ExecRunner;
  /** The kubelet's User-Agent is `kube-probe/<major>.<minor>`. */
  userAgent?: string;
}

const success = (output = '', warning = false): ProbeOutcome => ({ result: 'success', output, ...(warning ? { warning } : {}) });
const failure = (output: string): ProbeOutcome => ({ result: 'failure', output });
const unknown = (output: string): ProbeOutcome => ({ result: 'unknown', output });

function truncate(data: string | Buffer): string {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return buf.subarray(0, MAX_OUTPUT_BYTES).toString('utf8');
}

/** Runs the probe's handler once against the container. */
export async function runCheck(probe: v1.Probe, target: CheckTarget): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) return await execCheck(probe.exec.command ?? [], timeoutMs, target);
    if (probe.httpGet) return await httpGetCheck(probe.httpGet, timeoutMs, target);
    if (probe.tcpSocket) return await tcpCheck(probe.tcpSocket.host || target.podIP, resolvePort(probe.tcpSocket.port, target), timeoutMs);
    return unknown(probe.grpc ? 'gRPC probes are not supported' : 'missing probe handler');
  } catch (err) {
    return unknown(err instanceof Error ? err.message : String(err));
  }
}

/** A named port is looked up among the container's ports (kubelet's findPortByName). */
export function resolvePort(port: number | string, target: CheckTarget): number {
  if (typeof port === 'number') return port;
  const named = target.ports?.find((p) => p.name === port);
  if (named) return named.containerPort;
  if (/^\d+$/.test(port)) return Number(port);
  throw new Error(`couldn't find port: ${port} in container`);
}

export async function execCheck(command: string[], timeoutMs: number, target: CheckTarget): Promise<ProbeOutcome> {
  if (!target.exec) return unknown('exec probes are not supported by this runtime');
  const res = await target.exec(command, timeoutMs);
  if (res.timedOut) return failure(`command ${JSON.stringify(command.join(' '))} timed out`);
  const output = truncate(res.output);
  return res.exitCode === 0 ? success(output) : failure(output);
}

/** Go's `host:port`, brackets around an IPv6 address. */
const hostPort = (host: string, port: number) => (net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`);

/** Node's socket errors in Go's words (`connect: connection refused`). */
function dialError(err: NodeJS.ErrnoException, addr: string): string {
  const words: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ECONNRESET: 'read: connection reset by peer',
    ETIMEDOUT: 'i/o timeout',
  };
  const said = err.code && words[err.code];
  return said ? `dial tcp ${addr}: ${said}` : err.message;
}

export function tcpCheck(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  const addr = hostPort(host, port);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(failure(`dial tcp ${addr}: i/o timeout`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(success());
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(failure(dialError(err, addr)));
    });
  });
}

interface HttpResponse {
  status: number;
  location?: string;
  body: string;
}

/** One GET, its body read up to the limit (a longer body is cut, not an error). */
function get(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<HttpResponse> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    // The kubelet does not verify a probe's certificate, and keeps no connection open.
    const req = mod.get(url, { headers, signal, agent: false, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_OUTPUT_BYTES) chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_OUTPUT_BYTES) res.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: truncate(Buffer.concat(chunks)) });
      res.on('end', done);
      res.on('close', done);
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export async function httpGetCheck(action: v1.HTTPGetAction, timeoutMs: number, target: CheckTarget): Promise<ProbeOutcome> {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || target.podIP;
  const port = resolvePort(action.port, target);
  let path = action.path ?? '';
  if (!path.startsWith('/')) path = `/${path}`;
  let url = new URL(`${scheme}://${hostPort(host, port)}${path}`);
  const headers: Record<string, string> = { 'user-agent': target.userAgent ?? 'kube-probe/1.30', accept: '*/*' };
  for (const h of action.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
  const first = url;
  // Go's client.Timeout: one deadline for the whole exchange, redirects included.
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    for (let redirects = 0; ; redirects++) {
      const res = await get(url, headers, signal);
      if (res.status >= 300 && res.status < 400 && res.location) {
        const next = new URL(res.location, url);
        // Redirects are followed to the same host only; elsewhere the 3xx is the answer.
        if (next.hostname === first.hostname) {
          if (redirects + 1 >= MAX_REDIRECTS) return failure(`Get "${next}": stopped after ${MAX_REDIRECTS} redirects`);
          url = next;
          continue;
        }
      }
      if (res.status >= 200 && res.status < 300) return success(res.body);
      if (res.status >= 300 && res.status < 400) return success(`Probe terminated redirects, Response body: ${res.body}`, true);
      return failure(`HTTP probe failed with statuscode: ${res.status}`);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (signal.aborted) return failure(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
    return failure(`Get "${url}": ${dialError(e, hostPort(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port) || (url.protocol === 'https:' ? 443 : 80)))}`);
  }
}
