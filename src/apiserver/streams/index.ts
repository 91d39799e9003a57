// The streaming subresources of pods: exec and attach (WebSocket channel protocol), portforward
// (SPDY/3.1, direct or tunneled in a WebSocket) and log (chunked text). The HTTPS front hands
// these requests here before reading any body; the node side is the pod's node's
// ContainerStreams, found through the NodeConnector.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Pod } from '../../api/core/pods.js';
import { badRequest, internalError, methodNotAllowed, StatusError, type Status } from '../../machinery/errors.js';
import { readLogs } from '../../node/logs.js';
import { StreamError, type ContainerStreams, type NodeConnector, type StreamIO } from '../../node/streams/types.js';
import type { Storage } from '../resource.js';
import { channelSession, chooseChannelProtocol, exitStatus, failureStatus } from './channels.js';
import {
  checkLogStatus,
  checkRunning,
  execParams,
  logParams,
  nodeOf,
  portParams,
  resolveContainer,
  streamTarget,
  type StreamTarget,
} from './pod.js';
import { PORT_FORWARD_PROTOCOL, servePortForward, TUNNEL_PROTOCOL } from './portforward.js';
import { chooseSpdyExecProtocol, serveSpdyExec, SPDY_EXEC_PROTOCOLS } from './remotecommand.js';

export { streamTarget } from './pod.js';

export class PodStreams {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
  /**
   * Port-forward tunnels: `ws` refuses the subprotocol SPDY/3.1+portforward.k8s.io (a `/` is no
   * token character), so the request's offer is taken off and the answer added here.
   */
  private readonly tunnels = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });

  constructor(
    private readonly pods: () => Storage | undefined,
    private readonly connector: NodeConnector | undefined,
    private readonly log: Logger,
  ) {
    this.tunnels.on('headers', (headers: string[]) => headers.push(`Sec-WebSocket-Protocol: ${TUNNEL_PROTOCOL}`));
  }

  /** Whether this module serves the request's path. */
  handles(url: URL): boolean {
    return streamTarget(url.pathname) !== undefined;
  }

  /** A request without an upgrade: logs, or an error. */
  request(req: IncomingMessage, res: ServerResponse, url: URL): void {
    void this.serveRequest(req, res, url).catch((err: unknown) => {
      this.log.error({ err }, 'stream request failed');
      if (!res.headersSent) sendStatus(res, toStatusError(err));
      else res.destroy();
    });
  }

  /** An upgrade request (WebSocket or SPDY) for exec, attach or portforward. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    socket.on('error', () => {});
    try {
      this.serveUpgrade(req, socket, head, url);
    } catch (err) {
      // The kubelet's errors reach kubectl as text (`unable to upgrade connection: ...`), the
      // API server's as a Status.
      if (err instanceof StreamError) rejectUpgrade(socket, err.code, err.message);
      else {
        const status = toStatusError(err);
        rejectUpgrade(socket, status.code, JSON.stringify(status.toStatus()), 'application/json');
      }
    }
  }

  private async serveRequest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const target = streamTarget(url.pathname)!;
    req.resume(); // no body is read on these paths
    const method = req.method ?? 'GET';
    if (target.subresource !== 'log') {
      if (method !== 'GET' && method !== 'POST') throw methodNotAllowed('the server does not allow this method on the requested resource');
      this.pod(target); // 404 for a missing pod first, as kube-apiserver answers
      throw badRequest('Upgrade request required');
    }
    if (method !== 'GET') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const pod = this.pod(target);
    const params = logParams(url.searchParams, target.name);
    const container = resolveContainer(pod, params.container);
    if (!pod.spec?.nodeName) {
      // LogLocation: a pod without a node has no logs yet; the answer is empty.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end();
      return;
    }
    checkLogStatus(pod, container, params.previous);
    const streams = this.streamsOf(pod);
    const file = await streams.logFile(pod, container, params.previous);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
    res.flushHeaders();
    const uid = pod.metadata.uid;
    await readLogs(file, res, {
      ...params,
      signal: abort.signal,
      stillWriting: async () => {
        // Follow the instance the request began with: stop when the pod goes or it is replaced.
        let now: Pod;
        try {
          now = this.pod(target);
        } catch {
          return false;
        }
        if (now.metadata.uid !== uid) return false;
        const st = [...(now.status?.containerStatuses ?? []), ...(now.status?.initContainerStatuses ?? [])].find((s) => s.name === container);
        if (!st?.state?.running) return false;
        try {
          return (await streams.logFile(now, container, false)) === file;
        } catch {
          return false;
        }
      },
    });
    res.end();
  }

  private serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const target = streamTarget(url.pathname)!;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST') throw methodNotAllowed('the server does not allow this method on the requested resource');
    if (target.subresource === 'log') throw badRequest('pods/log is not served over an upgraded connection');
    const pod = this.pod(target);
    const upgradeHeader = String(req.headers['upgrade'] ?? '').toLowerCase();
    const isWebSocket = upgradeHeader === 'websocket';
    const isSpdy = upgradeHeader.startsWith('spdy/3.1');
    if (!isWebSocket && !isSpdy) throw badRequest(`unsupported upgrade protocol ${JSON.stringify(req.headers['upgrade'] ?? '')}`);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);

    if (target.subresource === 'portforward') {
      const ports = portParams(url.searchParams);
      nodeOf(pod);
      const streams = this.streamsOf(pod);
      const forwarder = {
        dial: (port: number) => streams.portForward(pod, port),
        describeError: (port: number, err: unknown) =>
          `error forwarding port ${port} to pod ${pod.metadata.name}, uid ${pod.metadata.uid}: ${err instanceof Error ? err.message : String(err)}`,
      };
      if (isWebSocket) {
        if (!offered.includes(TUNNEL_PROTOCOL)) throw badRequest(`port-forward over WebSockets needs the subprotocol ${TUNNEL_PROTOCOL}`);
        delete req.headers['sec-websocket-protocol'];
        this.tunnels.handleUpgrade(req, socket, head, (ws) => {
          const duplex = createWebSocketStream(ws);
          duplex.on('error', () => {});
          servePortForward(duplex, forwarder, this.log, ports);
        });
        return;
      }
      const versions = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim());
      if (!versions.includes(PORT_FORWARD_PROTOCOL))
        throw badRequest(`unable to negotiate a port-forward protocol: the client offers ${JSON.stringify(versions)}, the server supports [${PORT_FORWARD_PROTOCOL}]`);
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
          `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`,
      );
      if (head.length) socket.unshift(head);
      servePortForward(socket, forwarder, this.log, ports);
      return;
    }

    // exec and attach
    const exec = target.subresource === 'exec';
    const params = execParams(url.searchParams, exec);
    const container = resolveContainer(pod, params.container);
    nodeOf(pod);
    const streams = this.streamsOf(pod);
    checkRunning(pod, container);
    const run = (io: StreamIO, signal: AbortSignal): Promise<Status> =>
      (exec
        ? streams.exec(pod, container, params.command, io, signal).then((code) => exitStatus(code, params.command))
        : streams.attach(pod, container, io, signal).then(() => exitStatus(0, []))
      ).catch((err: unknown): Status => {
        if (err instanceof StreamError) return failureStatus(err.message, err.code);
        this.log.error({ err }, `${target.subresource} failed`);
        return failureStatus(err instanceof Error ? err.message : String(err));
      });
    if (isSpdy) {
      const versions = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const chosen = chooseSpdyExecProtocol(versions);
      if (!chosen)
        throw new StreamError(
          `unable to upgrade: unable to negotiate protocol: client supports [${versions.join(' ')}], server supports [${SPDY_EXEC_PROTOCOLS.join(' ')}]`,
          400,
        );
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${chosen}\r\n\r\n`);
      if (head.length) socket.unshift(head);
      serveSpdyExec(socket, chosen, params, run, this.log);
      return;
    }
    const protocol = chooseChannelProtocol(offered);
    if (!protocol) throw badRequest(`unable to negotiate a stream protocol: the client offers [${offered.join(' ')}], the server supports [v5.channel.k8s.io v4.channel.k8s.io]`);
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const session = channelSession(ws, protocol, params);
      void run(session.io, session.signal)
        .then((status) => session.finish(status))
        .catch((err: unknown) => this.log.debug({ err }, 'stream session ended badly'));
    });
  }

  private pod(target: StreamTarget): Pod {
    const storage = this.pods();
    if (!storage) throw internalError(new Error('pods are not served'));
    return storage.get(target.namespace, target.name).obj as Pod;
  }

  /** The node side of the pod; an error in kube-apiserver's manner when there is none. */
  private streamsOf(pod: Pod): ContainerStreams {
    const node = nodeOf(pod);
    const streams = this.connector?.(node);
    if (!streams)
      throw new StatusError(
        400,
        'BadRequest',
        `node "${node}" of pod ${pod.metadata.name} runs no containers (a simulated runtime): exec, attach, port-forward and logs are not available`,
      );
    return streams;
  }
}

function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (err instanceof StreamError) return new StatusError(err.code, err.code === 400 ? 'BadRequest' : err.code === 404 ? 'NotFound' : 'InternalError', err.message);
  return internalError(err);
}

function sendStatus(res: ServerResponse, err: StatusError): void {
  const body = JSON.stringify(err.toStatus());
  res.writeHead(err.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Answers an upgrade request with an error instead of switching protocols. */
export function rejectUpgrade(socket: Duplex, code: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\nContent-Type: ${contentType}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Answers an upgrade request with a Status. */
export function rejectUpgradeStatus(socket: Duplex, err: StatusError): void {
  rejectUpgrade(socket, err.code, JSON.stringify(err.toStatus()), 'application/json');
}
