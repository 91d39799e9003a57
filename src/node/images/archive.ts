// Importing image archives into the store: `docker save` tars (manifest.json, a tar per layer,
// the config JSON; Docker 25+ lays these out as OCI blobs) and OCI image-layout tars
// (`skopeo copy ... oci-archive:`, `docker save` of containerd images, `buildah push oci-archive:`).
// The archive is unpacked into the store's scratch space, so layers move in by rename.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, open, readFile, realpath, rm } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { x as extract } from 'tar';
import {
  CONTAINERD_NAME_ANNOTATION,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPE,
  REF_NAME_ANNOTATION,
  isIndexMediaType,
  isManifestMediaType,
  ociArchitecture,
} from './oci.js';
import { type ImageStore, sha256, sha256File } from './store.js';

export interface ImportedImage {
  reference: string;
  /** Config digest (the image ID). */
  id: string;
  /** Manifest digest. */
  digest: string;
}

export interface ImportResult {
  images: ImportedImage[];
  /** Why some images of the archive were left out (no name, no manifest for this platform). */
  skipped: string[];
}

/** One entry of a `docker save` manifest.json. */
interface DockerSaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

export async function importArchive(store: ImageStore, file: string): Promise<ImportResult> {
  const dir = await store.scratchDir();
  try {
    // A member node-tar skips (`..`, a bad header) fails the import, but only once the extraction
    // is over: `strict` would reject while it still writes, racing the cleanup below.
    const problems: string[] = [];
    await extract({
      file,
      cwd: dir,
      preserveOwner: false,
      onwarn: (code, message) => {
        if (code !== 'TAR_ENTRY_INFO') problems.push(`${code}: ${String(message)}`);
      },
    });
    if (problems.length) throw new Error(`${file} is not a usable tar archive: ${problems.join('; ')}`);
    if (await exists(join(dir, 'manifest.json'))) return await importDockerSave(store, dir);
    if (await exists(join(dir, 'oci-layout'))) return await importOciLayout(store, dir);
    throw new Error(`${file} is neither a docker save archive (no manifest.json) nor an OCI image layout (no oci-layout)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A file named inside the archive, symlinks resolved (older `docker save` links duplicate layers), which must stay inside it. */
async function member(dir: string, name: string): Promise<string> {
  const rel = normalize(name);
  if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) throw new Error(`archive member "${name}" is outside the archive`);
  const real = await realpath(join(dir, rel));
  if (!real.startsWith((await realpath(dir)) + sep)) throw new Error(`archive member "${name}" is outside the archive`);
  return real;
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

async function gunzippedDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), createGunzip(), async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) hash.update(chunk);
  });
  return `sha256:${hash.digest('hex')}`;
}

async function importDockerSave(store: ImageStore, dir: string): Promise<ImportResult> {
  const entries = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as DockerSaveEntry[];
  const result: ImportResult = { images: [], skipped: [] };
  // A layer file shared by two images (or linked to) moves into the store on first use.
  const layers = new Map<string, Descriptor>();
  // Resolved before anything moves: a link to a layer already moved in would dangle.
  const paths = new Map<string, string>();
  for (const name of entries.flatMap((e) => e.Layers)) if (!paths.has(name)) paths.set(name, await member(dir, name));
  for (const entry of entries) {
    const configBytes = await readFile(await member(dir, entry.Config));
    const configDigest = sha256(configBytes);
    const tags = entry.RepoTags ?? [];
    if (!tags.length) {
      result.skipped.push(`image ${configDigest} has no name`);
      continue;
    }
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== entry.Layers.length) {
      throw new Error(`image ${configDigest}: config lists ${diffIds.length} layers, manifest.json ${entry.Layers.length}`);
    }
    const descriptors: Descriptor[] = [];
    for (const [i, name] of entry.Layers.entries()) {
      const path = paths.get(name)!;
      let layer = layers.get(path);
      if (!layer) {
        const gzip = await isGzip(path);
        // The config's diff IDs are the digests of the uncompressed layers: check them.
        const diffId = gzip ? await gunzippedDigest(path) : (await sha256File(path)).digest;
        if (diffId !== diffIds[i]) throw new Error(`layer ${name}: content is ${diffId}, the config says ${diffIds[i]}`);
        const { digest, size } = await store.moveInBlob(path);
        layer = { mediaType: gzip ? MEDIA_TYPE.layerGzip : MEDIA_TYPE.layer, digest, size };
        layers.set(path, layer);
      }
      descriptors.push(layer);
    }
    const configBlob = await store.putBlob(configBytes);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.manifest,
      config: { mediaType: MEDIA_TYPE.config, ...configBlob },
      layers: descriptors,
    };
    const manifestBlob = await store.putBlob(JSON.stringify(manifest));
    for (const tag of tags) {
      const reference = await store.tag(tag, { mediaType: MEDIA_TYPE.manifest, ...manifestBlob });
      result.images.push({ reference, id: configBlob.digest, digest: manifestBlob.digest });
    }
  }
  return result;
}

/** The name an OCI index entry gives its image; ref.name alone may be a bare tag, which names nothing. */
function ociName(d: Descriptor): string | undefined {
  const full = d.annotations?.[CONTAINERD_NAME_ANNOTATION];
  if (full) return full;
  const ref = d.annotations?.[REF_NAME_ANNOTATION];
  return ref !== undefined && /[:/]/.test(ref) ? ref : undefined;
}

async function readInArchive<T>(dir: string, d: Descriptor): Promise<T> {
  const bytes = await readFile(await member(dir, join('blobs', 'sha256', d.digest.replace(/^sha256:/, ''))));
  const digest = sha256(bytes);
  if (digest !== d.digest) throw new Error(`digest mismatch: expected ${d.digest}, got ${digest}`);
  return JSON.parse(bytes.toString('utf8')) as T;
}

async function importOciLayout(store: ImageStore, dir: string): Promise<ImportResult> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  const result: ImportResult = { images: [], skipped: [] };
  const blobIn = async (d: Descriptor): Promise<void> => {
    if (await store.hasBlob(d.digest)) return;
    const hex = d.digest.replace(/^sha256:/, '');
    await store.moveInBlob(await member(dir, join('blobs', 'sha256', hex)), d.digest);
  };
  const readVerified = async <T>(d: Descriptor): Promise<T> => {
    await blobIn(d);
    return store.readJson<T>(d.digest);
  };
  for (const entry of index.manifests) {
    const name = ociName(entry);
    if (name === undefined) {
      result.skipped.push(`manifest ${entry.digest} has no full image name (${REF_NAME_ANNOTATION}: ${entry.annotations?.[REF_NAME_ANNOTATION] ?? 'none'})`);
      continue;
    }
    let target = entry;
    if (isIndexMediaType(entry.mediaType)) {
      // Read in place: only the chosen platform's manifest joins the store.
      const nested = await readInArchive<ImageIndex>(dir, entry);
      const arch = ociArchitecture();
      const match = nested.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch);
      if (!match) {
        result.skipped.push(`${name}: no manifest for linux/${arch}`);
        continue;
      }
      target = match;
    }
    if (!isManifestMediaType(target.mediaType)) throw new Error(`${name}: unsupported manifest media type ${target.mediaType}`);
    const manifest = await readVerified<ImageManifest>(target);
    for (const blob of [manifest.config, ...manifest.layers]) await blobIn(blob);
    const reference = await store.tag(name, { mediaType: target.mediaType, digest: target.digest, size: target.size });
    result.images.push({ reference, id: manifest.config.digest, digest: target.digest });
  }
  return result;
}
