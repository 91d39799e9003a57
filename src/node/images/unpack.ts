// Unpacks an image's layers, each into its own directory keyed by diff ID (the digest of the
// uncompressed tar) under `<dataDir>/images/layers/`, to serve later as overlayfs lower
// directories. A layer unpacked once is shared by every image that has it, and by concurrent
// unpackers: each extracts into scratch space and renames; the first rename wins. A layer is kept
// in one of two forms, each its own cache: whiteouts as the image spec writes them (`.wh.*`
// files, what flatten.ts reads), or as overlayfs reads them (whiteouts.ts).
import { createReadStream } from 'node:fs';
import { access, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { layerExtractor } from './layer.js';
import { toOverlayWhiteouts } from './whiteouts.js';
import type { Descriptor } from './oci.js';
import type { ImageStore } from './store.js';

/** How an unpacked layer records deletions: `oci` (`.wh.*` files) or `overlay` (overlayfs lower form). */
export type WhiteoutForm = 'oci' | 'overlay';

export interface UnpackOptions {
  /** `oci` unless given; `overlay` needs root. */
  whiteouts?: WhiteoutForm;
}

const formRoot = (store: ImageStore, form: WhiteoutForm) =>
  form === 'oci' ? join(store.root, 'layers', 'sha256') : join(store.root, 'layers', 'overlay', 'sha256');

export function layerDir(store: ImageStore, diffId: string, form: WhiteoutForm = 'oci'): string {
  const hex = /^sha256:([a-f0-9]{64})$/.exec(diffId)?.[1];
  if (!hex) throw new Error(`unsupported diff ID "${diffId}"`);
  return join(formRoot(store, form), hex);
}

async function compression(path: string): Promise<'gzip' | 'none'> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    if (bytesRead >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) return 'gzip';
    if (bytesRead === 4 && buffer.readUInt32LE(0) === 0xfd2fb528) throw new Error('zstd-compressed layers are not supported yet');
    return 'none';
  } finally {
    await handle.close();
  }
}

/** The directory holding the layer's files, unpacking it first if no one has. */
export async function unpackLayer(store: ImageStore, layer: Descriptor, diffId: string, options: UnpackOptions = {}): Promise<string> {
  const form = options.whiteouts ?? 'oci';
  const dir = layerDir(store, diffId, form);
  if (await access(dir).then(() => true, () => false)) return dir;
  await mkdir(formRoot(store, form), { recursive: true });
  const work = await store.scratchDir();
  const tree = join(work, 'tree');
  try {
    await mkdir(tree);
    const blob = store.blobPath(layer.digest);
    const extractor = layerExtractor(tree);
    const hash = createHash('sha256');
    const sink = async (source: AsyncIterable<Buffer>): Promise<void> => {
      for await (const chunk of source) {
        hash.update(chunk);
        await extractor.write(chunk);
      }
      await extractor.end();
    };
    if ((await compression(blob)) === 'gzip') await pipeline(createReadStream(blob), createGunzip(), sink);
    else await pipeline(createReadStream(blob), sink);
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== diffId) throw new Error(`layer ${layer.digest} unpacks to ${actual}, the image config says ${diffId}`);
    // Converted before the rename, so the cache never holds a half-converted tree.
    if (form === 'overlay') await toOverlayWhiteouts(tree);
    try {
      await rename(tree, dir);
    } catch (err) {
      // Another unpacker got there first: its tree is the same.
      if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
    return dir;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The unpacked layer directories of an image, lowest first. */
export async function unpackImage(store: ImageStore, refOrId: string, options: UnpackOptions = {}): Promise<string[]> {
  const image = await store.resolve(refOrId);
  const diffIds = image.config.rootfs.diff_ids;
  if (diffIds.length !== image.manifest.layers.length) throw new Error(`image ${image.reference}: ${image.manifest.layers.length} layers but ${diffIds.length} diff IDs`);
  const dirs: string[] = [];
  for (const [i, layer] of image.manifest.layers.entries()) dirs.push(await unpackLayer(store, layer, diffIds[i]!, options));
  return dirs;
}
