// A server-side SPDY/3.1 session as Kubernetes' clients (Go's spdystream) speak it, on
// spdy-transport's framing: their streams carry only Kubernetes' headers (streamtype, port,
// requestid), and they do no flow control.
import type { Duplex } from 'node:stream';
import transport from 'spdy-transport';

export interface SpdyStream extends Duplex {
  id: number;
  headers: Record<string, string>;
  respond(status: number, headers: Record<string, string>, cb?: (err?: Error) => void): void;
  abort(cb?: () => void): void;
  _spdyState: { window: { send: { update(size: number, cb?: () => void): void } } };
}

export interface SpdyConnection {
  on(event: 'stream', cb: (s: SpdyStream) => void): void;
  on(event: 'error' | 'close', cb: (err?: Error) => void): void;
  end(cb?: () => void): void;
  destroyStreams(err?: Error): void;
  _spdyState: { parser: { parseKVs: (buf: unknown, cb: (err: Error | null, headers?: Record<string, string>) => void) => void } };
}

/** Serves SPDY on `socket`; every stream the client opens is answered and emitted as 'stream'. */
export function spdyServer(socket: Duplex): SpdyConnection {
  const conn = transport.connection.create(socket, { protocol: 'spdy', isServer: true, autoSpdy31: false }) as unknown as SpdyConnection;
  // spdy-transport insists on HTTP's :method and :path in every SYN_STREAM: supply them.
  const parser = conn._spdyState.parser;
  const parseKVs = parser.parseKVs.bind(parser);
  parser.parseKVs = (buf, cb) =>
    parseKVs(buf, (err, headers) => {
      if (!err && headers) {
        headers[':method'] ??= 'POST';
        headers[':path'] ??= '/';
      }
      cb(err, headers);
    });
  socket.on('error', () => {});
  conn.on('error', () => {});
  conn.on('stream', (stream) => {
    stream.on('error', () => {});
    // spdystream never sends WINDOW_UPDATE, so a send window would stall every stream after
    // 64 KiB: writes wait for the socket instead.
    stream._spdyState.window.send.update = (_size, cb) => {
      if (cb) process.nextTick(cb);
    };
    // The client waits for the reply to each stream it creates.
    stream.respond(200, {});
  });
  return conn;
}
