// Converts an unpacked layer's OCI whiteouts into the form overlayfs reads in a lower directory:
// `.wh.<name>` becomes a 0:0 character device <name>, and `.wh..wh..opq` becomes the
// `trusted.overlay.opaque=y` xattr on its directory. Node has no mknod or setxattr, so the
// conversion runs coreutils' mknod and attr's setfattr; both need root (CAP_MKNOD, CAP_SYS_ADMIN).
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from '../../volumes/tools.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './flatten.js';

export type WhiteoutAction = { kind: 'opaque' } | { kind: 'whiteout'; hidden: string };

/** What a directory entry's name asks of overlayfs, if it is a whiteout. */
export function whiteoutAction(name: string): WhiteoutAction | undefined {
  if (name === OPAQUE_WHITEOUT) return { kind: 'opaque' };
  if (!name.startsWith(WHITEOUT_PREFIX)) return undefined;
  const hidden = name.slice(WHITEOUT_PREFIX.length);
  // `.wh.`, `.wh..` and `.wh...` name nothing a lower layer can hold: dropped, as flatten ignores them.
  if (hidden === '' || hidden === '.' || hidden === '..') return { kind: 'whiteout', hidden: '' };
  return { kind: 'whiteout', hidden };
}

/** Rewrites every whiteout under `tree` (a layer directory not yet in use) in overlay form. */
export async function toOverlayWhiteouts(tree: string): Promise<void> {
  const entries = await readdir(tree, { withFileTypes: true });
  const names = new Set(entries.map((e) => e.name));
  for (const entry of entries) {
    const path = join(tree, entry.name);
    const action = whiteoutAction(entry.name);
    if (action?.kind === 'opaque') {
      await rm(path, { force: true });
      await runTool('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', tree]);
    } else if (action?.kind === 'whiteout') {
      await rm(path, { recursive: true, force: true });
      // A layer that both deletes and adds a name keeps what it adds.
      if (action.hidden !== '' && !names.has(action.hidden)) await runTool('mknod', ['-m', '0', join(tree, action.hidden), 'c', '0', '0']);
    } else if (entry.isDirectory()) {
      await toOverlayWhiteouts(path);
    }
  }
}
