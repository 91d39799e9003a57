// berth's local images: an OCI image layout in `<dataDir>/images/` (what `skopeo copy oci:`
// and containerd exports read). Blobs are content-addressed and verified on write; index.json
// names images with `org.opencontainers.image.ref.name`. Blobs land by temp file + rename and
// index.json is rewritten the same way under a lock file, so the CLI and a running berth can
// share the store.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { withFileLock } from './lock.js';
import {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPE,
  REF_NAME_ANNOTATION,
  isIndexMediaType,
  isManifestMediaType,
} from './oci.js';
import { normalizeReference } from './reference.js';

export interface Image {
  /** Normalized reference, e.g. `docker.io/library/busybox:1.36`. */
  reference: string;
  /** Digest of the image's manifest. */
  digest: string;
  manifest: ImageManifest;
  /** Digest of the config: the image ID, as Docker shows it. */
  id: string;
  /** Bytes of manifest, config and layers as stored (containerd's image size). */
  size: number;
}

const DIGEST = /^sha256:([a-f0-9]{64})$/;

export function imagesDir(dataDir: string): string {
  return join(dataDir, 'images');
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export async function sha256File(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(createReadStream(path), async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.length;
    }
  });
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

function digestHex(digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new Error(`unsupported digest "${digest}" (only sha256 is)`);
  return m[1]!;
}

export class ImageStore {
  private constructor(readonly root: string) {}

  static async open(dataDir: string): Promise<ImageStore> {
    const store = new ImageStore(imagesDir(dataDir));
    await mkdir(join(store.root, 'blobs', 'sha256'), { recursive: true });
    await mkdir(store.scratchRoot, { recursive: true });
    await store.writeIfMissing('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await store.writeIfMissing('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.index, manifests: [] }));
    return store;
  }

  /** Where temporary files live: inside the store, so a rename moves them in. */
  get scratchRoot(): string {
    return join(this.root, 'tmp');
  }

  scratchDir(): Promise<string> {
    return mkdtemp(join(this.scratchRoot, 'work-'));
  }

  blobPath(digest: string): string {
    return join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  async hasBlob(digest: string): Promise<boolean> {
    return access(this.blobPath(digest)).then(
      () => true,
      () => false,
    );
  }

  readBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  async readJson<T>(digest: string): Promise<T> {
    return JSON.parse((await this.readBlob(digest)).toString('utf8')) as T;
  }

  /** Stores bytes as a blob, checking them against `expected` when given. */
  async putBlob(data: Buffer | string, expected?: string): Promise<{ digest: string; size: number }> {
    const digest = sha256(data);
    if (expected !== undefined && expected !== digest) throw new Error(`digest mismatch: expected ${expected}, got ${digest}`);
    const path = this.blobPath(digest);
    if (!(await this.hasBlob(digest))) {
      const tmp = join(this.scratchRoot, `blob-${randomBytes(8).toString('hex')}`);
      await writeFile(tmp, data, { flush: true });
      await rename(tmp, path);
    }
    return { digest, size: Buffer.byteLength(data) };
  }

  /** Moves a file (in the same file system) into the store as a blob, after verifying its digest. */
  async moveInBlob(file: string, expected?: string): Promise<{ digest: string; size: number }> {
    const { digest, size } = await sha256File(file);
    if (expected !== undefined && expected !== digest) {
      await unlink(file).catch(() => undefined);
      throw new Error(`digest mismatch: expected ${expected}, got ${digest}`);
    }
    if (await this.hasBlob(digest)) await unlink(file);
    else await rename(file, this.blobPath(digest));
    return { digest, size };
  }

  /** Names a manifest already in the store; the name moves off any image that had it. */
  async tag(reference: string, manifest: Descriptor): Promise<string> {
    const name = normalizeReference(reference);
    await this.updateIndex(async (index) => {
      // Checked under the lock: a concurrent `rm` may have collected blobs this import shared.
      const missing = await this.missingBlobs(manifest);
      if (missing.length) throw new Error(`blobs ${missing.join(', ')} vanished during the import (removed concurrently); import again`);
      index.manifests = index.manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] !== name);
      index.manifests.push({ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size, annotations: { [REF_NAME_ANNOTATION]: name } });
      return index;
    });
    return name;
  }

  async list(): Promise<Image[]> {
    const index = await this.readIndex();
    const images: Image[] = [];
    for (const d of index.manifests) {
      const reference = d.annotations?.[REF_NAME_ANNOTATION];
      if (reference === undefined || !isManifestMediaType(d.mediaType)) continue;
      const manifest = await this.readJson<ImageManifest>(d.digest);
      const size = d.size + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
      images.push({ reference, digest: d.digest, manifest, id: manifest.config.digest, size });
    }
    return images.sort((a, b) => a.reference.localeCompare(b.reference));
  }

  /** The images a reference, or a (prefix of an) image ID or manifest digest, names. */
  async find(refOrId: string): Promise<Image[]> {
    const images = await this.list();
    let name: string | undefined;
    try {
      name = normalizeReference(refOrId);
    } catch {
      // Not a name: maybe an ID.
    }
    const byName = images.filter((i) => i.reference === name);
    if (byName.length) return byName;
    const hex = refOrId.replace(/^sha256:/, '');
    if (!/^[a-f0-9]{1,64}$/.test(hex)) return [];
    const byId = images.filter((i) => digestHex(i.id).startsWith(hex));
    if (new Set(byId.map((i) => i.id)).size === 1) return byId;
    return images.filter((i) => digestHex(i.digest) === hex);
  }

  async resolve(refOrId: string): Promise<Image & { config: ImageConfig }> {
    const [image] = await this.find(refOrId);
    if (!image) throw new Error(`image "${refOrId}" not found`);
    return { ...image, config: await this.readJson<ImageConfig>(image.id) };
  }

  /** Removes the images a reference or ID names, and the blobs no remaining image uses. */
  async remove(refOrId: string): Promise<string[]> {
    const targets = new Set((await this.find(refOrId)).map((i) => i.reference));
    if (!targets.size) throw new Error(`image "${refOrId}" not found`);
    await this.updateIndex(async (index) => {
      const removed = index.manifests.filter((d) => targets.has(d.annotations?.[REF_NAME_ANNOTATION] ?? ''));
      index.manifests = index.manifests.filter((d) => !removed.includes(d));
      const kept = new Set<string>();
      for (const d of index.manifests) await this.reachable(d, kept);
      const candidates = new Set<string>();
      for (const d of removed) await this.reachable(d, candidates);
      // Write the index first: a crash between leaves stray blobs, never a name without blobs.
      await this.writeIndex(index);
      for (const digest of candidates) if (!kept.has(digest)) await rm(this.blobPath(digest), { force: true });
      return undefined;
    });
    return [...targets];
  }

  async readIndex(): Promise<ImageIndex> {
    return JSON.parse(await readFile(join(this.root, 'index.json'), 'utf8')) as ImageIndex;
  }

  /** Runs `fn` on index.json under the lock; writes what it returns (nothing: it wrote itself). */
  private updateIndex(fn: (index: ImageIndex) => Promise<ImageIndex | undefined>): Promise<void> {
    return withFileLock(join(this.root, 'index.json.lock'), async () => {
      const next = await fn(await this.readIndex());
      if (next) await this.writeIndex(next);
    });
  }

  private async writeIndex(index: ImageIndex): Promise<void> {
    const tmp = join(this.scratchRoot, `index-${randomBytes(8).toString('hex')}.json`);
    await writeFile(tmp, JSON.stringify(index, null, 2) + '\n', { flush: true });
    await rename(tmp, join(this.root, 'index.json'));
  }

  private async writeIfMissing(name: string, content: string): Promise<void> {
    const path = join(this.root, name);
    if (await stat(path).then(() => true, () => false)) return;
    const tmp = join(this.scratchRoot, `${name}-${randomBytes(8).toString('hex')}`);
    await writeFile(tmp, content + '\n', { flush: true });
    // Two processes racing here write the same content, so either rename may win.
    await rename(tmp, path);
  }

  /** Adds the digests of every blob `d` reaches (itself included) that exists. */
  private async reachable(d: Descriptor, into: Set<string>): Promise<void> {
    if (into.has(d.digest) || !(await this.hasBlob(d.digest))) return;
    into.add(d.digest);
    if (isIndexMediaType(d.mediaType)) {
      for (const m of (await this.readJson<ImageIndex>(d.digest)).manifests) await this.reachable(m, into);
    } else if (isManifestMediaType(d.mediaType)) {
      const manifest = await this.readJson<ImageManifest>(d.digest);
      for (const blob of [manifest.config, ...manifest.layers]) if (await this.hasBlob(blob.digest)) into.add(blob.digest);
    }
  }

  private async missingBlobs(manifest: Descriptor): Promise<string[]> {
    if (!(await this.hasBlob(manifest.digest))) return [manifest.digest];
    const m = await this.readJson<ImageManifest>(manifest.digest);
    const missing: string[] = [];
    for (const blob of [m.config, ...m.layers]) if (!(await this.hasBlob(blob.digest))) missing.push(blob.digest);
    return missing;
  }
}
