// berth.dev/loop: each claim is a sparse file holding an ext4 filesystem of the claim's size,
// which the node agent attaches through a loop device and mounts in the dir of each pod using it
// (the PV's `local` path is its record on the node, not a mount point). Unlike a directory it
// enforces capacity. ext4 is grown offline only (the image must not be attached):
// this machine refuses online growth.
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, realpath, rename, rm, rmdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type * as v1 from 'kubernetes-types/core/v1.js';
import {
  type ProvisionRequest,
  type ProvisionedVolume,
  type Provisioner,
  capacityQuantity,
  checkedVolumeName,
  isDirectChild,
  nodeAffinityFor,
  roundUp,
  volumesDir,
  type ProvisionerOptions,
  type Expanded,
} from './provisioner.js';
import { findTool, runTool } from './tools.js';

export const LOOP_PROVISIONER = 'berth.dev/loop';
/** The PV annotation naming the image file the node agent attaches. */
export const LOOP_IMAGE_ANNOTATION = 'berth.dev/loop-image';

const BLOCK = 4096n;
/** The smallest image: below 8 MiB mkfs.ext4 leaves out the journal (and below ~1 MiB fails). */
export const MIN_LOOP_BYTES = 8n * 1024n * 1024n;

/** The image size for a request: whole 4 KiB blocks, at least the minimum; never below the request. */
export function loopImageBytes(requested: bigint): bigint {
  const bytes = roundUp(requested, BLOCK);
  return bytes < MIN_LOOP_BYTES ? MIN_LOOP_BYTES : bytes;
}

export class LoopProvisioner implements Provisioner {
  readonly name = LOOP_PROVISIONER;
  private readonly root: string;

  constructor(private readonly options: ProvisionerOptions) {
    this.root = volumesDir(options.dataDir);
  }

  async provision(req: ProvisionRequest): Promise<ProvisionedVolume> {
    const name = checkedVolumeName(req.pvName);
    const image = join(this.root, `${name}.img`);
    const mountPoint = join(this.root, name);
    const bytes = loopImageBytes(req.capacityBytes);
    // Fail before leaving any file behind when the filesystem cannot be made.
    if (findTool('mkfs.ext4') === undefined)
      throw new Error('berth.dev/loop needs mkfs.ext4, which is not installed (install the e2fsprogs package)');
    await mkdir(this.root, { recursive: true });

    const existing = await sizeOf(image);
    if (existing === undefined) {
      // Built under a temporary name and renamed: an image under the final name is always whole.
      const tmp = `${image}.tmp`;
      try {
        const file = await open(tmp, 'w', 0o600);
        try {
          await file.truncate(safeNumber(bytes)); // sparse: no blocks written
        } finally {
          await file.close();
        }
        // 4 KiB blocks so the size in bytes is whole blocks; no root reserve on a dedicated volume.
        await runTool('mkfs.ext4', ['-F', '-q', '-b', '4096', '-m', '0', tmp]);
        await rename(tmp, image);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    } else if (existing !== bytes) {
      // A retry after the PV write failed finds its own image; anything else is not ours to reuse.
      throw new Error(`${image} already exists with ${existing} bytes, not ${bytes}`);
    }
    await mkdir(mountPoint, { recursive: true });

    return {
      source: { local: { path: mountPoint } },
      capacityBytes: bytes,
      capacity: capacityQuantity(bytes),
      nodeAffinity: nodeAffinityFor(req.node ?? this.options.nodeName),
      annotations: { [LOOP_IMAGE_ANNOTATION]: image },
    };
  }

  async delete(pv: v1.PersistentVolume): Promise<void> {
    const image = this.imageOf(pv);
    await this.refuseAttached(image, 'delete');
    await rm(image, { force: true });
    const mountPoint = pv.spec?.local?.path;
    if (mountPoint !== undefined && isDirectChild(this.root, mountPoint)) {
      // rmdir, not rm -r: if something is still mounted there, fail rather than empty it.
      await rmdir(mountPoint).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  async expand(pv: v1.PersistentVolume, newBytes: bigint): Promise<Expanded> {
    const image = this.imageOf(pv);
    const current = await sizeOf(image);
    if (current === undefined) throw new Error(`${image} does not exist`);
    const bytes = roundUp(newBytes, BLOCK);
    if (bytes < current) throw new Error(`cannot shrink ${image} from ${current} to ${bytes} bytes`);
    if (bytes > current) await truncate(image, safeNumber(bytes));
    // In use: the image is grown; its loop device and filesystem catch up when it is next attached.
    if ((await loopDevicesBacking(image)).length > 0) return { bytes, fileSystemResizePending: true };
    await growFileSystem(image);
    return { bytes, fileSystemResizePending: false };
  }

  private imageOf(pv: v1.PersistentVolume): string {
    const image = pv.metadata?.annotations?.[LOOP_IMAGE_ANNOTATION];
    if (image === undefined)
      throw new Error(`persistent volume ${pv.metadata?.name} has no ${LOOP_IMAGE_ANNOTATION} annotation`);
    if (!image.endsWith('.img') || !isDirectChild(this.root, image))
      throw new Error(`refusing to touch ${image}: not a loop image under ${this.root}`);
    return image;
  }

  private async refuseAttached(image: string, what: string): Promise<void> {
    const devices = await loopDevicesBacking(image);
    if (devices.length > 0)
      throw new Error(`cannot ${what} ${image}: attached to ${devices.join(', ')}; the node agent must detach it first`);
  }
}

/**
 * Grows an unattached image's ext4 filesystem to the file's size. Also right when it already has that
 * size: it finishes a growth that stopped after the truncate. e2fsck exits 1 when it corrected
 * something, which still leaves a consistent filesystem. The node agent calls this before attaching an
 * image whose growth is pending.
 */
export async function growFileSystem(image: string): Promise<void> {
  await runTool('e2fsck', ['-f', '-y', image], [0, 1]);
  await runTool('resize2fs', [image]);
}

/** The size of the ext4 filesystem in `image` (block count × block size), read by dumpe2fs. */
export async function fileSystemBytes(image: string): Promise<bigint> {
  const { stdout } = await runTool('dumpe2fs', ['-h', image]);
  const field = (name: string) => new RegExp(`^${name}:\\s+(\\d+)\\s*$`, 'm').exec(stdout)?.[1];
  const count = field('Block count');
  const size = field('Block size');
  if (count === undefined || size === undefined) throw new Error(`dumpe2fs shows no block count and size for ${image}`);
  return BigInt(count) * BigInt(size);
}

/** The loop devices whose backing file is `image`, read from sysfs (attaches nothing). */
export async function loopDevicesBacking(image: string): Promise<string[]> {
  const target = await realpath(image).catch(() => image);
  const devices: string[] = [];
  const entries = await readdir('/sys/block').catch(() => [] as string[]);
  for (const dev of entries.filter((e) => e.startsWith('loop'))) {
    const backing = await readFile(`/sys/block/${dev}/loop/backing_file`, 'utf8').catch(() => '');
    if (backing.trim() === target) devices.push(`/dev/${dev}`);
  }
  return devices;
}

/** Whether loop volumes can work here: the kernel's loop control and a free device. */
export async function loopDevicesAvailable(): Promise<boolean> {
  if (!existsSync('/dev/loop-control')) return false;
  try {
    const { stdout } = await runTool('losetup', ['-f']);
    return stdout.trim().startsWith('/dev/loop');
  } catch {
    return false;
  }
}

async function sizeOf(path: string): Promise<bigint | undefined> {
  try {
    return (await stat(path, { bigint: true })).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function safeNumber(bytes: bigint): number {
  const n = Number(bytes);
  if (!Number.isSafeInteger(n)) throw new Error(`${bytes} bytes is too large for a loop image`);
  return n;
}
