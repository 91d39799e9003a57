// A container's root filesystem under `<dataDir>/containers/<id>/`: an overlay of the image's
// shared layers (read-only lower directories, the top layer first) with the container's own
// `upper` and `work` directories, mounted at `rootfs`. Where overlayfs is missing or refuses the
// mount, the layers are flattened (copied) into `rootfs` instead. Either way the layers stay
// untouched, and removing the container dir removes everything the container wrote.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { flatten } from '../../images/flatten.js';
import type { ImageStore } from '../../images/store.js';
import { unpackImage } from '../../images/unpack.js';
import { runTool } from '../../../volumes/tools.js';

export const containerDir = (dataDir: string, id: string) => join(resolve(dataDir), 'containers', id);

export interface Rootfs {
  /** The root the spec's root.path names. */
  path: string;
  kind: 'overlay' | 'copy';
}

/** The kernel takes the options in one page, and ':' and ',' separate them: paths must not hold either. */
const PAGE = 4096;

/** The overlay mount's options; `lowers` lowest first, as unpackImage returns them. */
export function overlayOptions(lowers: readonly string[], upper: string, work: string): string {
  if (!lowers.length) throw new Error('an overlay needs at least one lower directory');
  for (const p of [...lowers, upper, work]) if (/[:,]/.test(p)) throw new Error(`overlay path "${p}" contains ':' or ','`);
  const options = `lowerdir=${[...lowers].reverse().join(':')},upperdir=${upper},workdir=${work}`;
  if (options.length >= PAGE) throw new Error(`overlay options for ${lowers.length} layers exceed ${PAGE - 1} bytes`);
  return options;
}

/** Decodes the octal escapes /proc/self/mounts uses for space, tab, newline and backslash. */
const unescapeMount = (field: string) => field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The mount points listed in /proc/self/mounts text. */
export function mountPoints(mounts: string): string[] {
  return mounts.split('\n').filter(Boolean).map((line) => unescapeMount(line.split(' ')[1] ?? ''));
}

export async function isMounted(path: string): Promise<boolean> {
  return mountPoints(await readFile('/proc/self/mounts', 'utf8')).includes(path);
}

async function overlayAvailable(): Promise<boolean> {
  const fs = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  return fs.split('\n').some((line) => line.split('\t')[1] === 'overlay');
}

/** Builds the container's root from the image; on failure nothing of it is left. */
export async function assembleRootfs(store: ImageStore, image: string, dataDir: string, id: string): Promise<Rootfs> {
  const dir = containerDir(dataDir, id);
  const path = join(dir, 'rootfs');
  await mkdir(dir, { recursive: true });
  try {
    if (await overlayAvailable()) {
      const lowers = await unpackImage(store, image, { whiteouts: 'overlay' });
      const upper = join(dir, 'upper');
      const work = join(dir, 'work');
      await Promise.all([mkdir(upper), mkdir(work), mkdir(path)]);
      try {
        await runTool('mount', ['-t', 'overlay', 'overlay', '-o', overlayOptions(lowers, upper, work), path]);
        return { path, kind: 'overlay' };
      } catch {
        // Refused (a kernel without overlay support for this filesystem, say): copy instead.
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
      }
    }
    await flatten(await unpackImage(store, image), path);
    return { path, kind: 'copy' };
  } catch (err) {
    await removeRootfs(dataDir, id).catch(() => undefined);
    throw err;
  }
}

/** Unmounts the root if mounted and removes the container dir; a missing one is fine. */
export async function removeRootfs(dataDir: string, id: string): Promise<void> {
  const dir = containerDir(dataDir, id);
  const path = join(dir, 'rootfs');
  if (await isMounted(path)) await runTool('umount', [path]);
  // Never delete through a mount: that would reach whatever is mounted there.
  if (await isMounted(path)) throw new Error(`${path} is still mounted`);
  await rm(dir, { recursive: true, force: true });
}
