// pods/portforward over SPDY/3.1 (portforward.k8s.io), on the upgraded connection itself or
// tunneled in WebSocket binary messages (subprotocol SPDY/3.1+portforward.k8s.io, KEP-4006).
// The client opens two streams per forwarded connection, sharing a requestID: `error` (the
// server writes why forwarding failed, then closes it) and `data` (the bytes both ways).
// SPDY framing is spdy-transport's.
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { spdyServer, type SpdyStream } from './spdy.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

/** How long the server waits for the other stream of a pair (kubelet: 30 s). */
const PAIR_TIMEOUT_MS = 30_000;

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

export interface PortForwarder {
  /** A connection to the port inside the pod. */
  dial(port: number): Promise<Duplex>;
  /** The words of a failure to forward (kubelet: `error forwarding port P to pod ..., uid ...: why`). */
  describeError(port: number, err: unknown): string;
}

/** Serves the port-forward SPDY session on `socket` until either side closes it. */
export function servePortForward(socket: Duplex, forwarder: PortForwarder, log: Logger, allowedPorts: number[] = []): void {
  const conn = spdyServer(socket);
  conn.on('error', (err) => log.debug({ err }, 'port-forward session error'));

  const pairs = new Map<string, Pair>();
  const upstreams = new Set<Duplex>();
  conn.on('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
    for (const u of upstreams) u.destroy();
  });

  conn.on('stream', (stream) => {
    const h = stream.headers;
    const type = h['streamtype'];
    const requestID = h['requestid'] ?? '';
    const port = Number(h['port']);
    if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port < 1 || port > 65535) {
      stream.abort();
      return;
    }
    let pair = pairs.get(requestID);
    if (!pair) {
      const timer = setTimeout(() => {
        const p = pairs.get(requestID);
        pairs.delete(requestID);
        if (p?.error) {
          p.error.end(`timed out waiting for the data stream of request ${requestID}`);
        }
        p?.data?.abort();
      }, PAIR_TIMEOUT_MS);
      timer.unref();
      pairs.set(requestID, (pair = { timer }));
    }
    if (pair[type]) {
      stream.abort();
      return;
    }
    pair[type] = stream;
    // The client never writes on the error stream; read it so its end is seen.
    if (type === 'error') stream.resume();
    if (!pair.data || !pair.error) return;
    clearTimeout(pair.timer);
    pairs.delete(requestID);
    void forward(pair.data, pair.error, port);
  });

  async function forward(data: SpdyStream, error: SpdyStream, port: number): Promise<void> {
    if (allowedPorts.length && !allowedPorts.includes(port)) {
      error.end(forwarder.describeError(port, new Error(`port ${port} was not requested`)));
      data.end();
      return;
    }
    let upstream: Duplex;
    try {
      upstream = await forwarder.dial(port);
    } catch (err) {
      error.end(forwarder.describeError(port, err));
      data.end();
      return;
    }
    upstreams.add(upstream);
    let failed = false;
    upstream.on('error', (err) => {
      if (!failed && !error.writableEnded) error.write(forwarder.describeError(port, err));
      failed = true;
      data.end();
    });
    upstream.on('close', () => {
      upstreams.delete(upstream);
      if (!error.writableEnded) error.end();
    });
    data.on('close', () => upstream.destroy());
    data.pipe(upstream);
    upstream.pipe(data);
  }
}
