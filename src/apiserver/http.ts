// The HTTPS front: authentication (client certificates signed by the berth CA,
// or the admin bearer token), request body limits, and streaming of watches.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { badRequest, requestEntityTooLarge, unauthorized, type StatusError } from '../machinery/errors.js';
import type { ApiHandler, ApiRequest } from './handler.js';
import type { Credentials } from './pki.js';
import { rejectUpgradeStatus, type PodStreams } from './streams/index.js';

/** kube-apiserver's limit for a request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface HttpOptions {
  host: string;
  port: number;
  credentials: Credentials;
  handler: ApiHandler;
  log: Logger;
  onRequest?(method: string, code: number, seconds: number): void;
  /** pods/exec, attach, portforward and log: served from the raw request, before any body is read. */
  streams?: PodStreams;
}

export async function startHttps(opts: HttpOptions): Promise<Server> {
  const { credentials: creds, handler, log } = opts;
  const token = Buffer.from(creds.adminToken);
  const server = createServer(
    {
      key: creds.serverKey,
      cert: creds.serverCert,
      ca: creds.caCert,
      requestCert: true,
      // Unauthenticated connections are answered 401 per request, as kube-apiserver does.
      rejectUnauthorized: false,
    },
    (req, res) => void serve(req, res),
  );
  // Watches are long-lived; Node's default request timeouts would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 120_000;

  // A client certificate is checked once per connection, not per request.
  const certUsers = new WeakMap<TLSSocket, string | undefined>();
  const authenticate = (req: IncomingMessage): string | undefined => {
    const socket = req.socket as TLSSocket;
    if (socket.authorized) {
      if (!certUsers.has(socket)) certUsers.set(socket, String(socket.getPeerCertificate()?.subject?.CN ?? "") || undefined);
      const cn = certUsers.get(socket);
      if (cn) return String(cn);
    }
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) {
      const given = Buffer.from(auth.slice(7).trim());
      if (given.length === token.length && timingSafeEqual(given, token)) return 'berth-admin';
    }
    return undefined;
  };

  const sendStatus = (res: ServerResponse, err: StatusError) => {
    const body = JSON.stringify(err.toStatus());
    res.writeHead(err.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      opts.onRequest?.(method, res.statusCode, seconds);
      log.debug({ method, url: req.url, code: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    try {
      const user = authenticate(req);
      if (!user) return sendStatus(res, unauthorized());
      const url = new URL(req.url ?? '/', 'https://berth');
      if (opts.streams?.handles(url)) return opts.streams.request(req, res, url);
      const body = await readBody(req);
      if (body === undefined) {
        sendStatus(res, requestEntityTooLarge(MAX_BODY_BYTES));
        req.resume();
        return;
      }
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const apiReq: ApiRequest = {
        method,
        url,
        headers,
        body,
        user,
      };
      const out = await handler.handle(apiReq);
      if ('body' in out) {
        const buf = typeof out.body === 'string' ? Buffer.from(out.body) : out.body;
        res.writeHead(out.status, { ...out.headers, 'content-length': buf.length });
        res.end(buf);
        return;
      }
      res.writeHead(out.status, out.headers);
      res.flushHeaders();
      const stop = out.stream({ write: (chunk) => res.write(chunk), end: () => res.end() });
      res.on('close', stop);
    } catch (err) {
      log.error({ err }, 'request failed');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'internal error', reason: 'InternalError', code: 500 }));
      } else res.destroy();
    }
  }

  // Upgrades (WebSocket, SPDY) are the streaming subresources' alone.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    try {
      if (!authenticate(req)) return rejectUpgradeStatus(socket, unauthorized());
      const url = new URL(req.url ?? '/', 'https://berth');
      if (!opts.streams?.handles(url)) return rejectUpgradeStatus(socket, badRequest(`no upgrade is served on ${url.pathname}`));
      log.debug({ method: req.method, url: req.url, upgrade: req.headers.upgrade }, 'upgrade');
      opts.streams.upgrade(req, socket, head, url);
    } catch (err) {
      log.error({ err }, 'upgrade failed');
      socket.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** The body, or undefined when it exceeds the limit. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
