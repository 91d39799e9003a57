// The WebSocket channel protocol of exec and attach (v4.channel.k8s.io, v5.channel.k8s.io;
// KEP-4006): every binary message starts with a channel byte, 0 stdin, 1 stdout, 2 stderr,
// 3 error (one metav1.Status when the command ends), 4 resize ({"Width":..,"Height":..}); v5
// adds 255, CLOSE, whose second byte names a stream the client closed (its stdin).
import { PassThrough, Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Status } from '../../machinery/errors.js';
import { TerminalResize, type StreamIO, type TerminalSize } from '../../node/streams/types.js';

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';
export const CHANNEL_PROTOCOLS = [V5, V4];

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
export const CLOSE = 255;

/** The protocol to answer with among those the client offers (most recent first). */
export function chooseChannelProtocol(offered: Iterable<string>): string | undefined {
  const set = new Set(offered);
  return CHANNEL_PROTOCOLS.find((p) => set.has(p));
}

/** The JSON of a resize message; undefined when it is not a sensible size. */
export function parseResize(data: Buffer): TerminalSize | undefined {
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  // Go decodes field names case-insensitively; client-go sends Width and Height.
  const get = (k: string) => Object.entries(v as Record<string, unknown>).find(([key]) => key.toLowerCase() === k)?.[1];
  const width = get('width');
  const height = get('height');
  if (typeof width !== 'number' || typeof height !== 'number' || width < 0 || height < 0 || width > 65535 || height > 65535)
    return undefined;
  return { width: Math.floor(width), height: Math.floor(height) };
}

/** What the error channel carries at the end: Success, or the exit code as kubelet reports it. */
export function exitStatus(code: number, command: string[]): Status {
  if (code === 0) return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 0 } as Status;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
    code: 500,
  } as Status;
}

/** A failure on the error channel (the stream could not run). */
export function failureStatus(message: string, code = 500): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: code === 400 ? 'BadRequest' : code === 404 ? 'NotFound' : 'InternalError',
    code,
  } as Status;
}

export interface ChannelSession {
  io: StreamIO;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Flushes stdout and stderr, sends `status` on the error channel and closes the connection. */
  finish(status: Status): Promise<void>;
}

/** Wraps an open WebSocket of a channel protocol into the StreamIO of an exec or attach. */
export function channelSession(ws: WebSocket, protocol: string, opts: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): ChannelSession {
  const abort = new AbortController();
  const send = (channel: number, data: Buffer, cb?: (err?: Error) => void): void => {
    if (ws.readyState !== ws.OPEN) {
      cb?.(new Error('connection closed'));
      return;
    }
    ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true }, cb);
  };
  const output = (channel: number): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        // A client gone mid-command is not an error of the command: drop its output.
        send(channel, chunk, () => cb());
      },
    });
  const stdin = opts.stdin ? new PassThrough() : undefined;
  const stdout = opts.stdout ? output(STDOUT) : undefined;
  const stderr = opts.stderr && !opts.tty ? output(STDERR) : undefined;
  const resize = opts.tty ? new TerminalResize() : undefined;

  ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[]) => {
    const data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    if (data.length === 0) return;
    const channel = data[0];
    const payload = data.subarray(1);
    if (channel === STDIN) {
      // Backpressure: stop reading the connection while the command has not taken its stdin.
      if (stdin && !stdin.writableEnded && payload.length && !stdin.write(Buffer.from(payload))) {
        ws.pause();
        stdin.once('drain', () => ws.resume());
      }
    } else if (channel === RESIZE) {
      const size = parseResize(payload);
      if (size && resize) resize.set(size);
    } else if (channel === CLOSE && protocol === V5) {
      if (payload[0] === STDIN && stdin && !stdin.writableEnded) stdin.end();
    }
  });
  ws.on('error', () => {});
  ws.on('close', () => {
    abort.abort();
    if (stdin && !stdin.writableEnded) stdin.end();
  });

  const flush = (w: Writable | undefined) =>
    w
      ? new Promise<void>((resolve) => {
          if (w.writableFinished) return resolve();
          w.once('finish', resolve);
          w.once('error', () => resolve());
          w.end();
        })
      : Promise.resolve();

  return {
    io: { stdin, stdout, stderr, tty: opts.tty, resize },
    signal: abort.signal,
    async finish(status) {
      await Promise.all([flush(stdout), flush(stderr)]);
      if (ws.readyState === ws.OPEN) {
        send(ERROR, Buffer.from(JSON.stringify(status)));
        ws.close(1000);
      }
      if (stdin && !stdin.writableEnded) stdin.end();
    },
  };
}
