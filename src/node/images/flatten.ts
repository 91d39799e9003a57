// Merges unpacked layers (lowest first) into one root filesystem, interpreting the OCI
// whiteouts: `.wh.<name>` deletes what lower layers put at <name>, and a directory holding
// `.wh..wh..opq` hides everything lower layers put in it. For a runtime without overlayfs, and
// for checking what an image's root looks like. Files are copied, not linked, so changes to the
// result never reach the shared layers; hard links within a layer stay hard links.
import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

const asRoot = process.getuid?.() === 0;

export async function flatten(layerDirs: string[], target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  for (const layer of layerDirs) await mergeDir(layer, target, new Map());
}

async function mergeDir(src: string, dest: string, links: Map<string, string>): Promise<void> {
  const names = await readdir(src);
  if (names.includes(OPAQUE_WHITEOUT)) {
    for (const name of await readdir(dest)) await rm(join(dest, name), { recursive: true, force: true });
  }
  for (const name of names) {
    if (name === OPAQUE_WHITEOUT || !name.startsWith(WHITEOUT_PREFIX)) continue;
    const hidden = name.slice(WHITEOUT_PREFIX.length);
    // `.wh..` or `.wh...` would whiteout this directory or its parent: meaningless, ignored.
    if (hidden === '' || hidden === '.' || hidden === '..') continue;
    await rm(join(dest, hidden), { recursive: true, force: true });
  }
  for (const name of names) {
    if (name.startsWith(WHITEOUT_PREFIX)) continue;
    await mergeEntry(join(src, name), join(dest, name), links);
  }
}

async function mergeEntry(src: string, dest: string, links: Map<string, string>): Promise<void> {
  const st = await lstat(src);
  const existing = await lstat(dest).catch(() => undefined);
  // Only a directory over a directory merges; anything else replaces (a symlink is never followed).
  if (existing && !(st.isDirectory() && existing.isDirectory())) await rm(dest, { recursive: true, force: true });
  if (st.isDirectory()) {
    if (!existing?.isDirectory()) await mkdir(dest, { mode: 0o700 });
    await mergeDir(src, dest, links);
  } else if (st.isSymbolicLink()) {
    await symlink(await readlink(src), dest);
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? links.get(key) : undefined;
    if (first !== undefined) {
      await link(first, dest);
      return;
    }
    await copyFile(src, dest);
    if (st.nlink > 1) links.set(key, dest);
  } else {
    return;
  }
  // chown before chmod: chown clears setuid and setgid bits.
  if (asRoot) await lchown(dest, st.uid, st.gid);
  if (!st.isSymbolicLink()) await chmod(dest, st.mode & 0o7777);
  await lutimes(dest, st.atime, st.mtime);
}
