// The CRI container log format the kubelet reads (`kubectl logs`): one record a line,
// `<RFC3339Nano time> <stdout|stderr> <F|P> <content>`. A line longer than MAX_LINE is cut into
// partial (P) records ending in a full (F) one; output ending without a newline ends with F, as
// containerd writes it.
export type LogStream = 'stdout' | 'stderr';

/** containerd's default max container log line size. */
export const MAX_LINE = 16 * 1024;

/** Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped, no fraction when it is 0. */
export function rfc3339Nano(epochNanos: bigint): string {
  const ms = Number(epochNanos / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (epochNanos % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? `.${frac}` : ''}Z`;
}

export function criRecord(time: string, stream: LogStream, partial: boolean, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${time} ${stream} ${partial ? 'P' : 'F'} `), content, Buffer.from('\n')]);
}

/** Splits a stream's bytes into records; feed chunks in order, then `end`. */
export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly emit: (content: Buffer, partial: boolean) => void, private readonly max = MAX_LINE) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const nl = buf.indexOf(0x0a);
      if (nl !== -1 && nl <= this.max) {
        this.emit(buf.subarray(0, nl), false);
        buf = buf.subarray(nl + 1);
      } else if (buf.length > this.max) {
        this.emit(buf.subarray(0, this.max), true);
        buf = buf.subarray(this.max);
      } else break;
    }
    this.pending = Buffer.from(buf);
  }

  end(): void {
    if (this.pending.length) this.emit(this.pending, false);
    this.pending = Buffer.alloc(0);
  }
}

/** Now, in nanoseconds since the epoch (sub-millisecond digits from the monotonic clock). */
export function nowNanos(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}
