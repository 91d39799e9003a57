// A real registry for tests: Debian's docker-registry (the CNCF distribution server) on a free
// loopback port, and the push side of the distribution API to put images into it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { nodePlatform } from '../../src/node/images/distribution.js';
import { digestOf, tarball } from './images.js';

export type After = { after(fn: () => unknown): void };

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export function request(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { ...headers, 'Content-Length': String(body.length) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts docker-registry on a free loopback port with its storage under `dir`; stopped by pid in `t.after`. Returns its base URL. */
export async function startRegistry(t: After, dir: string): Promise<string> {
  const port = await freePort();
  const config = join(dir, 'registry.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'storage')}}}\nhttp: {addr: "127.0.0.1:${port}"}\n`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    }
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    if ((await request('GET', `${base}/v2/`).catch(() => undefined))?.status === 200) return base;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`docker-registry did not come up: ${stderr}`);
}

/** A monolithic blob upload. */
export async function pushBlob(base: string, repo: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = digestOf(data);
  const started = await request('POST', `${base}/v2/${repo}/blobs/uploads/`);
  assert.equal(started.status, 202, started.body.toString());
  const location = new URL(started.headers.location!, base);
  location.searchParams.set('digest', digest);
  const put = await request('PUT', location.href, { 'Content-Type': 'application/octet-stream' }, data);
  assert.equal(put.status, 201, put.body.toString());
  return { digest, size: data.length };
}

export async function pushManifest(base: string, repo: string, ref: string, mediaType: string, manifest: object): Promise<{ mediaType: string; digest: string; size: number }> {
  const body = Buffer.from(JSON.stringify(manifest));
  const put = await request('PUT', `${base}/v2/${repo}/manifests/${ref}`, { 'Content-Type': mediaType }, body);
  assert.equal(put.status, 201, put.body.toString());
  return { mediaType, digest: digestOf(body), size: body.length };
}

/** Pushes a multi-platform image: the node's platform gets `layers` (gzipped), another platform a dummy. */
export async function pushImage(base: string, repo: string, tag: string, layers: Buffer[], cmd: string[] = ['/bin/sh']): Promise<void> {
  const platform = nodePlatform();
  const single = async (arch: string, ls: Buffer[]) => {
    const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: cmd }, rootfs: { type: 'layers', diff_ids: ls.map((l) => digestOf(l)) } }));
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...(await pushBlob(base, repo, config)) },
      layers: [] as object[],
    };
    for (const l of ls) manifest.layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await pushBlob(base, repo, gzipSync(l))) });
    const d = await pushManifest(base, repo, digestOf(JSON.stringify(manifest)), manifest.mediaType, manifest);
    return { ...d, platform: { os: 'linux', architecture: arch, ...(platform.variant && arch === platform.architecture ? { variant: platform.variant } : {}) } };
  };
  const other = platform.architecture === 's390x' ? 'riscv64' : 's390x';
  const manifests = [await single(other, [tarball([{ path: 'wrong-platform', body: 'x' }])]), await single(platform.architecture, layers)];
  await pushManifest(base, repo, tag, 'application/vnd.oci.image.index.v1+json', { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests });
}

/** `<dataDir>/registries.yaml` allowing only `hosts` (loopback registries), over plain HTTP. */
export function allowOnly(dataDir: string, ...hosts: string[]): void {
  const registries = hosts.map((h) => `  "${h}":\n    insecure: true\n`).join('');
  writeFileSync(join(dataDir, 'registries.yaml'), `allow: [${hosts.map((h) => `"${h}"`).join(', ')}]\nregistries:\n${registries}`);
}

/**
 * A token-auth front for the registry, as Docker Hub works: 401 + Bearer challenge, a token
 * service taking basic credentials (alice / s3cret) for pulls of `repository`. Returns its host:port.
 */
export async function startTokenProxy(t: After, upstream: string, repository = 'test/busybox'): Promise<string> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://proxy');
    if (url.pathname === '/token') {
      const ok = req.headers.authorization === `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
      const scope = url.searchParams.get('scope');
      res.writeHead(ok && scope === `repository:${repository}:pull` && url.searchParams.get('service') === 'berth-test' ? 200 : 401, { 'Content-Type': 'application/json' });
      return res.end(ok ? JSON.stringify({ token: 'good-token' }) : JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
    }
    if (req.headers.authorization !== 'Bearer good-token') {
      res.writeHead(401, {
        'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="berth-test",scope="repository:${repository}:pull"`,
        'Content-Type': 'application/json',
      });
      return res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    }
    const { authorization: _, ...headers } = req.headers;
    const up = http.request(`${upstream}${req.url}`, { method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

