// Pulling images from registries (the distribution v2 API) into the store: resolve the reference
// on the first endpoint that answers (mirrors, then the registry, as registries.yaml says), pick
// the node's platform out of an index, fetch the blobs the store lacks into its scratch space
// (each verified against its digest as it moves in), and name the image.
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Challenge, MANIFEST_ACCEPT, PullError, nodePlatform, parseChallenge, selectPlatform } from './distribution.js';
import { type Descriptor, type ImageIndex, type ImageManifest, type Platform, isIndexMediaType, isManifestMediaType } from './oci.js';
import { formatReference, parseReference, type Reference } from './reference.js';
import { EMPTY_REGISTRIES, type Endpoint, PullNotAllowedError, type RegistriesConfig, parseRegistries, planEndpoints } from './registries.js';
import { type Image, type ImageStore, sha256 } from './store.js';

export { PullError } from './distribution.js';

/** What an imagePullSecret yields for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

export interface PullOptions {
  registries?: RegistriesConfig;
  /** Credentials by host: a registry's name (`docker.io`) or an endpoint's `host[:port]`. */
  auth?: Record<string, Credentials>;
  platform?: Platform;
  /** Per-request inactivity limit. */
  timeoutMs?: number;
}

export interface PulledImage extends Image {
  /** Digests of the config and layer blobs downloaded (the rest were in the store). */
  fetched: string[];
  /** The endpoint the image came from. */
  endpoint: string;
}

const MAX_MANIFEST_BYTES = 4 << 20;
const MAX_REDIRECTS = 5;

/** `<dataDir>/registries.yaml`, or no settings when there is none. */
export async function loadRegistries(dataDir: string): Promise<RegistriesConfig> {
  try {
    return parseRegistries(await readFile(join(dataDir, 'registries.yaml'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_REGISTRIES;
    throw err;
  }
}

/** A failed request, kept apart so the pull can word it (not found, unauthorized, …). */
class RequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

function send(url: string, headers: Record<string, string>, timeoutMs: number, redirects = MAX_REDIRECTS): Promise<IncomingMessage> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = client.get(target, { headers: { 'User-Agent': 'berth', ...headers } }, (res) => {
      const location = res.headers.location;
      if (res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && location) {
        res.resume();
        if (!redirects) return reject(new RequestError(`Get "${url}": too many redirects`));
        const next = new URL(location, target);
        // Blob redirects go to storage that signs its own URLs: never forward credentials there.
        const kept = next.host === target.host ? headers : Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'Authorization'));
        return resolve(send(next.href, kept, timeoutMs, redirects - 1));
      }
      resolve(res);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new RequestError(`failed to do request: Get "${url}": ${err.message}`)));
  });
}

async function readBody(res: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) {
      res.destroy();
      throw new RequestError(`response larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The registry's own words for a failure (`{"errors":[{"code","message"}]}`), when it gave any. */
async function serverMessage(res: IncomingMessage): Promise<string> {
  const body = await readBody(res, 64 << 10).catch(() => Buffer.alloc(0));
  try {
    const errors = (JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
    return errors.map((e) => [e.code?.toLowerCase(), e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    return '';
  }
}

/** Requests to one endpoint for one repository, authorizing as its challenges ask. */
class Session {
  private authorization?: string;

  constructor(
    readonly endpoint: Endpoint,
    private readonly repository: string,
    private readonly credentials: Credentials | undefined,
    private readonly timeoutMs: number,
  ) {}

  /** GETs `/v2/<repository>/<path>`; a non-2xx answer is thrown as a RequestError. */
  async get(path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
    const url = `${this.endpoint.url}/v2/${this.repository}/${path}`;
    let res = await send(url, this.withAuth(headers), this.timeoutMs);
    if (res.statusCode === 401 && (await this.authorize(res))) res = await send(url, this.withAuth(headers), this.timeoutMs);
    if (res.statusCode === undefined || res.statusCode >= 300) {
      const message = await serverMessage(res);
      throw new RequestError(message || `unexpected status ${res.statusCode} from GET ${url}`, res.statusCode);
    }
    return res;
  }

  private withAuth(headers: Record<string, string>): Record<string, string> {
    return this.authorization ? { ...headers, Authorization: this.authorization } : headers;
  }

  /** Answers a 401's challenge; false when there is nothing more to try. */
  private async authorize(res: IncomingMessage): Promise<boolean> {
    const header = res.headers['www-authenticate'];
    const challenge = parseChallenge(Array.isArray(header) ? (header[0] ?? '') : (header ?? ''));
    if (this.authorization || !challenge) return false;
    res.resume();
    if (challenge.scheme === 'basic') {
      if (!this.credentials) return false;
      this.authorization = `Basic ${basic(this.credentials)}`;
      return true;
    }
    this.authorization = `Bearer ${await this.token(challenge)}`;
    return true;
  }

  private async token(challenge: Challenge): Promise<string> {
    const { realm, service, scope } = challenge.params;
    if (!realm) throw new RequestError('bearer challenge without a realm', 401);
    const url = new URL(realm);
    // A token service on plain http is only trusted from a registry on plain http.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.endpoint.url.startsWith('http:'))) {
      throw new RequestError(`refusing token realm ${realm}`, 401);
    }
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope ?? `repository:${this.repository}:pull`);
    const headers: Record<string, string> = this.credentials ? { Authorization: `Basic ${basic(this.credentials)}` } : {};
    const res = await send(url.href, headers, this.timeoutMs);
    if (res.statusCode !== 200) {
      const message = await serverMessage(res);
      throw new RequestError(`token service ${url.origin} answered ${res.statusCode}${message ? `: ${message}` : ''}`, 401);
    }
    const body = JSON.parse((await readBody(res, 1 << 20)).toString('utf8')) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RequestError(`token service ${url.origin} gave no token`, 401);
    return token;
  }
}

function basic(c: Credentials): string {
  return Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

interface Resolved {
  session: Session;
  manifest: ImageManifest;
  bytes: Buffer;
  descriptor: Descriptor;
}

async function fetchManifest(session: Session, ref: string, expected?: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
  const res = await session.get(`manifests/${ref}`, { Accept: MANIFEST_ACCEPT });
  const bytes = await readBody(res, MAX_MANIFEST_BYTES);
  const digest = sha256(bytes);
  if (expected !== undefined && digest !== expected) throw new RequestError(`manifest ${ref}: digest mismatch: got ${digest}`);
  const mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? String(res.headers['content-type'] ?? '').split(';')[0]!;
  return { bytes, mediaType, digest };
}

async function resolveOn(session: Session, ref: Reference, platform: Platform): Promise<Resolved> {
  let m = await fetchManifest(session, ref.digest ?? ref.tag!, ref.digest);
  if (isIndexMediaType(m.mediaType)) {
    const index = JSON.parse(m.bytes.toString('utf8')) as ImageIndex;
    const chosen = selectPlatform(index, platform);
    const name = `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
    if (!chosen) throw new RequestError(`no match for platform ${name} in manifest ${m.digest}: not found`, 404);
    m = await fetchManifest(session, chosen.digest, chosen.digest);
  }
  if (!isManifestMediaType(m.mediaType)) throw new RequestError(`unsupported manifest media type "${m.mediaType}"`);
  const manifest = JSON.parse(m.bytes.toString('utf8')) as ImageManifest;
  return { session, manifest, bytes: m.bytes, descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length } };
}

function describe(name: string, err: unknown): PullError {
  if (err instanceof PullError) return err;
  if (err instanceof PullNotAllowedError) return new PullError(name, 'NotAllowed', err.message);
  const message = err instanceof Error ? err.message : String(err);
  const status = err instanceof RequestError ? err.status : undefined;
  if (status === 404) return new PullError(name, 'NotFound', `failed to resolve reference "${name}": ${name}: not found`);
  if (status === 401 || status === 403) {
    return new PullError(name, 'Unauthorized', `failed to resolve reference "${name}": pull access denied, repository does not exist or may require authorization: ${message}`);
  }
  return new PullError(name, 'Failed', `failed to resolve reference "${name}": ${message}`);
}

/** Pulls `image` into the store under its normalized name; throws PullError. */
export async function pullImage(store: ImageStore, image: string, opts: PullOptions = {}): Promise<PulledImage> {
  let ref: Reference;
  try {
    ref = parseReference(image);
  } catch (err) {
    throw new PullError(image, 'Failed', (err as Error).message);
  }
  const name = formatReference(ref);
  const config = opts.registries ?? EMPTY_REGISTRIES;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let endpoints: Endpoint[];
  try {
    endpoints = planEndpoints(config, ref.domain);
  } catch (err) {
    throw describe(name, err);
  }
  let resolved: Resolved | undefined;
  let lastError: unknown;
  for (const endpoint of endpoints) {
    const credentials = opts.auth?.[endpoint.host] ?? (endpoint.mirror ? undefined : opts.auth?.[ref.domain]);
    try {
      resolved = await resolveOn(new Session(endpoint, ref.path, credentials, timeoutMs), ref, opts.platform ?? nodePlatform());
      break;
    } catch (err) {
      lastError = err;
    }
  }
  if (!resolved) throw describe(name, lastError);

  const { session, manifest } = resolved;
  const fetched: string[] = [];
  const work = await store.scratchDir();
  try {
    for (const blob of [manifest.config, ...manifest.layers]) {
      if (await store.hasBlob(blob.digest)) continue;
      const file = join(work, blob.digest.replace(/^sha256:/, ''));
      try {
        const res = await session.get(`blobs/${blob.digest}`);
        await pipeline(res, createWriteStream(file));
        await store.moveInBlob(file, blob.digest);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new PullError(name, 'Failed', `failed to copy: ${blob.digest} from ${session.endpoint.url}: ${message}`);
      }
      fetched.push(blob.digest);
    }
    await store.putBlob(resolved.bytes, resolved.descriptor.digest);
    await store.tag(name, resolved.descriptor);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const stored = (await store.find(name)).find((i) => i.reference === name);
  if (!stored) throw new PullError(name, 'Failed', 'image vanished from the store right after the pull (removed concurrently)');
  return { ...stored, fetched, endpoint: session.endpoint.url };
}
