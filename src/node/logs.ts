// Reading a container's CRI-format log file (`<RFC3339Nano> <stdout|stderr> <F|P> <content>` a
// line, see runtime/runc/crilog.ts) into what `kubectl logs` prints, as the kubelet's ReadLogs
// does: tailLines counts the file's records, sinceTime drops older records, timestamps prefix
// every record, limitBytes cuts the output, and follow keeps reading what the container writes.
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

export interface LogRecord {
  /** The time as written in the file (RFC3339Nano). */
  time: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  content: Buffer;
}

export interface LogOptions {
  /** Only the last this many records of the file. */
  tailLines?: number;
  /** Records at or after this time only, in nanoseconds since the epoch. */
  sinceNanos?: bigint;
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
  /** Only one of the container's streams (PodLogOptions.stream); both by default. */
  stream?: 'stdout' | 'stderr';
}

/** One record of a CRI log line (without its newline); undefined for a malformed line. */
export function parseCriLine(line: Buffer): LogRecord | undefined {
  const s1 = line.indexOf(0x20);
  if (s1 <= 0) return undefined;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  const stream = line.subarray(s1 + 1, s2).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  // The tag field: F or P (containerd may add more tags separated by ':'; the first decides).
  const s3 = line.indexOf(0x20, s2 + 1);
  const tagEnd = s3 < 0 ? line.length : s3;
  const tag = line.subarray(s2 + 1, tagEnd).toString('latin1').split(':')[0];
  if (tag !== 'F' && tag !== 'P') return undefined;
  return {
    time: line.subarray(0, s1).toString('latin1'),
    stream,
    partial: tag === 'P',
    content: s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1),
  };
}

/** An RFC 3339 time (any fraction, Z or an offset) in nanoseconds since the epoch; undefined when malformed. */
export function parseTimeNanos(time: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3].toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

/**
 * A record's time as the kubelet writes it for --timestamps: RFC3339NanoFixed in UTC
 * (`2026-01-02T15:04:05.123456789Z`, always nine digits), whatever zone the file used.
 */
export function timestampOut(time: string): string {
  const nanos = parseTimeNanos(time);
  if (nanos === undefined) return time;
  const seconds = new Date(Number(nanos / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  return `${seconds}.${(nanos % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** Turns records into output bytes with the options' since, timestamps and byte limit. */
export class LogFormatter {
  private remaining: number;

  constructor(private readonly opts: LogOptions) {
    this.remaining = opts.limitBytes ?? Infinity;
  }

  /** True once the byte limit is reached: nothing more will be written. */
  get done(): boolean {
    return this.remaining <= 0;
  }

  /** The bytes one record contributes (possibly empty). */
  format(rec: LogRecord): Buffer {
    if (this.done) return Buffer.alloc(0);
    if (this.opts.stream && rec.stream !== this.opts.stream) return Buffer.alloc(0);
    if (this.opts.sinceNanos !== undefined) {
      const t = parseTimeNanos(rec.time);
      if (t !== undefined && t < this.opts.sinceNanos) return Buffer.alloc(0);
    }
    const parts: Buffer[] = [];
    if (this.opts.timestamps) parts.push(Buffer.from(`${timestampOut(rec.time)} `));
    parts.push(rec.content);
    if (!rec.partial) parts.push(Buffer.from('\n'));
    let out = Buffer.concat(parts);
    if (out.length > this.remaining) out = out.subarray(0, this.remaining);
    this.remaining -= out.length;
    return out;
  }

  /** Every complete line of `data` formatted; returns the output and the bytes of an unfinished last line. */
  formatChunk(data: Buffer): { out: Buffer; rest: Buffer } {
    const outs: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) break;
      const rec = parseCriLine(data.subarray(start, nl));
      if (rec) outs.push(this.format(rec));
      start = nl + 1;
      if (this.done) break;
    }
    return { out: Buffer.concat(outs), rest: data.subarray(start) };
  }
}

/**
 * Where the last `n` lines of `data` start: the offset after the (n+1)-th newline from the end,
 * a final line without a newline counting as a line.
 */
export function tailStart(data: Buffer, n: number): number {
  if (n <= 0) return data.length;
  let end = data.length;
  // A trailing newline ends the last line rather than starting an empty one.
  if (end > 0 && data[end - 1] === 0x0a) end--;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (data[i] === 0x0a && ++count === n) return i + 1;
  }
  return 0;
}

const BLOCK = 64 * 1024;

/** The file offset where its last `n` lines start, reading backwards block by block. */
async function tailOffset(fh: FileHandle, size: number, n: number): Promise<number> {
  if (n <= 0) return size;
  let pos = size;
  let count = 0;
  let first = true;
  while (pos > 0) {
    const len = Math.min(BLOCK, pos);
    pos -= len;
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, pos);
    let end = len;
    if (first && end > 0 && buf[end - 1] === 0x0a) end--;
    first = false;
    for (let i = end - 1; i >= 0; i--) if (buf[i] === 0x0a && ++count === n) return pos + i + 1;
  }
  return 0;
}

export interface ReadLogsOptions extends LogOptions {
  follow?: boolean;
  /** Ends a follow or a read. */
  signal?: AbortSignal;
  /**
   * While following, asked now and then (about every second) whether the file will get more:
   * false once the container instance is gone or replaced by a newer one. Default: always true.
   */
  stillWriting?: () => Promise<boolean> | boolean;
  /** How often a follow looks for new bytes (ms). */
  pollMs?: number;
}

/** Writes the log file's output for `opts` to `out` (not ending it); resolves when done. */
export async function readLogs(path: string, out: Writable, opts: ReadLogsOptions = {}): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const fmt = new LogFormatter(opts);
    const size = (await fh.stat()).size;
    let pos = opts.tailLines !== undefined ? await tailOffset(fh, size, opts.tailLines) : 0;
    let rest: Buffer = Buffer.alloc(0);
    const buf = Buffer.alloc(BLOCK);
    const write = async (chunk: Buffer): Promise<void> => {
      if (!chunk.length || out.destroyed) return;
      if (!out.write(chunk)) await drained(out, opts.signal);
    };
    const readMore = async (): Promise<boolean> => {
      let any = false;
      for (;;) {
        if (opts.signal?.aborted || out.destroyed || fmt.done) return any;
        const { bytesRead } = await fh.read(buf, 0, BLOCK, pos);
        if (bytesRead === 0) return any;
        any = true;
        pos += bytesRead;
        const r = fmt.formatChunk(rest.length ? Buffer.concat([rest, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead));
        rest = Buffer.from(r.rest);
        await write(r.out);
      }
    };
    await readMore();
    if (!opts.follow) return;
    const poll = opts.pollMs ?? 200;
    let lastCheck = Date.now();
    while (!opts.signal?.aborted && !out.destroyed && !fmt.done) {
      await sleep(poll, opts.signal);
      if (await readMore()) continue;
      if (Date.now() - lastCheck >= 1000) {
        lastCheck = Date.now();
        const current = await stat(path).catch(() => undefined);
        const writing = current && current.size >= pos ? await (opts.stillWriting?.() ?? true) : false;
        if (!writing) {
          await readMore();
          return;
        }
      }
    }
  } finally {
    await fh.close();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function drained(out: Writable, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
