// exec and attach over SPDY/3.1, as clients without WebSockets (and kubectl when a WebSocket
// upgrade fails) speak them: X-Stream-Protocol-Version v4/v3/v2.channel.k8s.io, one SPDY stream
// per streamtype (error, stdin, stdout, stderr, resize). v4's error stream carries a
// metav1.Status (exit codes included), v2 and v3's the error's text; resize (v3+) carries
// concatenated {"Width":..,"Height":..} objects.
import { PassThrough, type Duplex, type Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Status } from '../../machinery/errors.js';
import { TerminalResize, type StreamIO } from '../../node/streams/types.js';
import { parseResize } from './channels.js';
import { spdyServer, type SpdyStream } from './spdy.js';

export const SPDY_EXEC_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io'];

/** How long the server waits for the client to open its streams (kubelet: 30 s). */
const STREAMS_TIMEOUT_MS = 30_000;

export function chooseSpdyExecProtocol(offered: string[]): string | undefined {
  return SPDY_EXEC_PROTOCOLS.find((p) => offered.includes(p));
}

/** Splits a stream of concatenated JSON objects (no nesting) into objects. */
export class JsonObjects {
  private buf = '';
  constructor(private readonly emit: (obj: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.buf += chunk.toString('utf8');
    for (;;) {
      const end = this.buf.indexOf('}');
      if (end < 0) break;
      const start = this.buf.lastIndexOf('{', end);
      if (start >= 0) this.emit(Buffer.from(this.buf.slice(start, end + 1)));
      this.buf = this.buf.slice(end + 1);
    }
    if (this.buf.length > 4096) this.buf = ''; // garbage
  }
}

export interface ExecSessionOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Serves one exec or attach on an upgraded SPDY connection: `run` gets the streams and resolves with the final Status. */
export function serveSpdyExec(
  socket: Duplex,
  protocol: string,
  opts: ExecSessionOptions,
  run: (io: StreamIO, signal: AbortSignal) => Promise<Status>,
  log: Logger,
): void {
  const conn = spdyServer(socket);
  const abort = new AbortController();
  const v = protocol === 'v4.channel.k8s.io' ? 4 : protocol === 'v3.channel.k8s.io' ? 3 : 2;
  const expected = new Set(['error']);
  if (opts.stdin) expected.add('stdin');
  if (opts.stdout) expected.add('stdout');
  if (opts.stderr && !opts.tty) expected.add('stderr');
  if (opts.tty && v >= 3) expected.add('resize');
  const streams = new Map<string, SpdyStream>();
  let started = false;
  const timer = setTimeout(() => {
    if (!started) socket.destroy();
  }, STREAMS_TIMEOUT_MS);
  timer.unref();
  conn.on('close', () => {
    clearTimeout(timer);
    abort.abort();
  });
  socket.on('close', () => abort.abort());

  conn.on('stream', (stream) => {
    const type = stream.headers['streamtype'];
    if (!type || !expected.has(type) || streams.has(type)) {
      stream.abort();
      return;
    }
    streams.set(type, stream);
    if (type === 'error' || type === 'stdout' || type === 'stderr') stream.resume(); // the client writes nothing there
    if (streams.size === expected.size && !started) {
      started = true;
      clearTimeout(timer);
      void start();
    }
  });

  async function start(): Promise<void> {
    const resize = opts.tty ? new TerminalResize() : undefined;
    const resizeStream = streams.get('resize');
    if (resizeStream && resize) {
      const objects = new JsonObjects((obj) => {
        const size = parseResize(obj);
        if (size) resize.set(size);
      });
      resizeStream.on('data', (c: Buffer) => objects.push(c));
    }
    // spdy-transport's streams are readable-stream Duplexes (their async iterator waits for
    // both sides to end): the runtime gets core streams piped to and from them.
    const spdyStdin = streams.get('stdin');
    const stdin = spdyStdin ? spdyStdin.pipe(new PassThrough()) : undefined;
    const output = (s: SpdyStream | undefined) => {
      if (!s) return undefined;
      const pt = new PassThrough();
      pt.pipe(s);
      return pt;
    };
    const io: StreamIO = { stdin, stdout: output(streams.get('stdout')), stderr: output(streams.get('stderr')), tty: opts.tty, resize };
    let status: Status;
    try {
      status = await run(io, abort.signal);
    } catch (err) {
      log.debug({ err }, 'spdy exec failed');
      status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: String(err), code: 500 } as Status;
    }
    const errorStream = streams.get('error')!;
    const finished = (w: Writable | undefined) =>
      new Promise<void>((resolve) => {
        if (!w || w.writableFinished || w.destroyed) return resolve();
        w.once('finish', () => resolve());
        w.once('close', () => resolve());
      });
    const outs = [streams.get('stdout'), streams.get('stderr')];
    const done = Promise.all(outs.map(finished));
    io.stdout?.end();
    io.stderr?.end();
    await done;
    if (v >= 4) errorStream.write(JSON.stringify(status));
    else if (status.status !== 'Success') errorStream.write(status.message ?? 'error');
    const errorDone = finished(errorStream);
    errorStream.end();
    await errorDone;
    // The client has what it needs; give the frames a moment to leave, then close.
    setTimeout(() => socket.end(), 100).unref();
  }
}
