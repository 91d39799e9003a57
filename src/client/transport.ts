// How the client reaches the API server: over HTTPS (other processes, tests)
// or in process, straight into the server's request handler, so components in
// `berth up` skip the network but never the server's logic.
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { ApiHandler } from '../apiserver/handler.js';

export interface TransportRequest {
  method: string;
  /** Path with query string, e.g. `/api/v1/namespaces/default/pods?limit=5`. */
  path: string;
  body?: string;
  contentType?: string;
  accept?: string;
}

export interface TransportResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

export interface WatchStream {
  /** Ends the stream from the client side. */
  stop(): void;
}

export interface WatchCallbacks {
  /** One line of the watch stream (a JSON WatchEvent). */
  line(text: string): void;
  /** The stream ended; `err` when it failed. */
  end(err?: Error, response?: TransportResponse): void;
}

export interface Transport {
  request(req: TransportRequest): Promise<TransportResponse>;
  watch(path: string, cb: WatchCallbacks, accept?: string): WatchStream;
}

/** Splits a byte stream into lines. */
function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let buffered = '';
  return (chunk) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) onLine(line);
    }
  };
}

export class InProcessTransport implements Transport {
  constructor(
    private readonly handler: ApiHandler,
    private readonly user = 'system:berth',
  ) {}

  async request(req: TransportRequest): Promise<TransportResponse> {
    const res = await this.handler.handle({
      method: req.method,
      url: new URL(req.path, 'https://berth'),
      headers: { 'content-type': req.contentType, accept: req.accept ?? 'application/json', 'user-agent': this.user },
      body: req.body === undefined ? undefined : Buffer.from(req.body),
      user: this.user,
    });
    if ('stream' in res) throw new Error('unexpected stream response');
    return { status: res.status, headers: res.headers, body: res.body.toString() };
  }

  watch(path: string, cb: WatchCallbacks, accept = 'application/json'): WatchStream {
    let stopped = false;
    let stopServer: (() => void) | undefined;
    void this.handler
      .handle({ method: 'GET', url: new URL(path, 'https://berth'), headers: { accept }, user: this.user })
      .then((res) => {
        if (stopped) return;
        if (!('stream' in res)) {
          const body = res.body.toString();
          return cb.end(new Error(`watch failed with ${res.status}`), { status: res.status, headers: res.headers, body });
        }
        const split = lineSplitter(cb.line);
        stopServer = res.stream({
          write: (chunk) => {
            if (!stopped) split(chunk);
          },
          end: () => {
            if (stopped) return;
            stopped = true;
            cb.end();
          },
        });
      }, (err: Error) => cb.end(err));
    return {
      stop: () => {
        stopped = true;
        stopServer?.();
      },
    };
  }
}

export interface HttpsTransportOptions {
  server: string;
  ca: string;
  cert?: string;
  key?: string;
  token?: string;
}

export class HttpsTransport implements Transport {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(private readonly opts: HttpsTransportOptions) {
    this.base = new URL(opts.server);
    this.agent = new Agent({ keepAlive: true, maxSockets: 64, ca: opts.ca, cert: opts.cert, key: opts.key });
  }

  private send(req: TransportRequest, onResponse: (res: IncomingMessage) => void, onError: (err: Error) => void) {
    const headers: Record<string, string> = { accept: req.accept ?? 'application/json' };
    if (req.contentType) headers['content-type'] = req.contentType;
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const r = httpsRequest(new URL(req.path, this.base), { method: req.method, agent: this.agent, headers }, onResponse);
    r.on('error', onError);
    r.end(req.body);
    return r;
  }

  request(req: TransportRequest): Promise<TransportResponse> {
    return new Promise((resolve, reject) => {
      this.send(
        req,
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res), body: Buffer.concat(chunks).toString() }),
          );
          res.on('error', reject);
        },
        reject,
      );
    });
  }

  watch(path: string, cb: WatchCallbacks, accept?: string): WatchStream {
    let done = false;
    const finish = (err?: Error, response?: TransportResponse) => {
      if (done) return;
      done = true;
      cb.end(err, response);
    };
    const r = this.send(
      { method: 'GET', path, accept },
      (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => finish(new Error(`watch failed with ${res.statusCode}`), { status: res.statusCode ?? 0, headers: flatHeaders(res), body }));
          return;
        }
        res.setEncoding('utf8');
        const split = lineSplitter(cb.line);
        res.on('data', (c: string) => split(c));
        res.on('end', () => finish());
        res.on('error', (err) => finish(err));
        res.on('close', () => finish());
      },
      (err) => finish(err),
    );
    return {
      stop: () => {
        done = true;
        r.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}

function flatHeaders(res: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(res.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
