// Extracts one layer tar into a directory, as it is: whiteout files (`.wh.*`) stay files, for
// the flattening (or an overlay) to interpret. Every member must stay inside the directory:
// absolute paths, `..` and paths through a symlink are rejected, not skipped, since a layer that
// tries them is hostile. Each entry is written with synchronous calls as the parser hands it over,
// so entries land in order (a hard link always finds its target) and no contents queue in memory.
import {
  chmodSync,
  chownSync,
  closeSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';

/** A member's path relative to the layer root ('' for the root); throws on one that escapes. */
export function memberPath(name: string): string {
  if (name.startsWith('/')) throw new Error(`layer member "${name}" has an absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`layer member "${name}" contains ".."`);
  return parts.join('/');
}

/** Makes the parents of `rel` as directories, refusing to pass through a symlink or a file. */
function ensureParents(root: string, rel: string): void {
  const parts = rel.split('/').slice(0, -1);
  let path = root;
  for (const part of parts) {
    path = join(path, part);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) mkdirSync(path, { mode: 0o755 });
    else if (st.isSymbolicLink()) throw new Error(`layer member "${rel}" goes through the symlink "${path.slice(root.length + 1)}"`);
    else if (!st.isDirectory()) throw new Error(`layer member "${rel}" goes through the non-directory "${path.slice(root.length + 1)}"`);
  }
}

function clear(path: string, keepDirectory: boolean): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st || (keepDirectory && st.isDirectory())) return;
  rmSync(path, { recursive: true, force: true });
}

const asRoot = process.getuid?.() === 0;

export interface LayerExtractor {
  /** Resolves when the parser can take more. */
  write(chunk: Buffer): Promise<void>;
  /** Resolves once every entry is on disk. */
  end(): Promise<void>;
}

/** An extractor into `root` (an existing, empty directory); feed it the uncompressed layer tar. */
export function layerExtractor(root: string): LayerExtractor {
  // Directory modes and times are set last: a read-only directory must still take its children.
  const dirs: { path: string; mode: number; mtime?: Date; uid?: number; gid?: number }[] = [];
  let failure: unknown;
  const onEntry = (entry: ReadEntry): void => {
    const rel = memberPath(entry.path);
    const mode = (entry.mode ?? 0o644) & 0o7777;
    if (rel === '') {
      if (entry.type === 'Directory') dirs.push({ path: root, mode, mtime: entry.mtime, uid: entry.uid, gid: entry.gid });
      return;
    }
    ensureParents(root, rel);
    const path = join(root, rel);
    switch (entry.type) {
      case 'Directory':
        clear(path, true);
        mkdirSync(path, { recursive: true, mode: 0o700 });
        dirs.push({ path, mode, mtime: entry.mtime, uid: entry.uid, gid: entry.gid });
        return;
      case 'File':
      case 'OldFile':
      case 'ContiguousFile': {
        clear(path, false);
        // O_EXCL: never through a symlink someone put here after `clear`.
        const fd = openSync(path, 'wx', 0o600);
        let ok = true;
        const guard = (fn: () => void): void => {
          if (!ok) return;
          try {
            fn();
          } catch (err) {
            ok = false;
            failure ??= err;
          }
        };
        entry.on('data', (chunk: Buffer) => guard(() => writeSync(fd, chunk)));
        entry.on('end', () => {
          guard(() => {
            // chown before chmod: chown clears setuid and setgid bits.
            if (asRoot && entry.uid !== undefined && entry.gid !== undefined) fchownSync(fd, entry.uid, entry.gid);
            fchmodSync(fd, mode);
            if (entry.mtime) futimesSync(fd, entry.mtime, entry.mtime);
          });
          closeSync(fd);
        });
        return;
      }
      case 'SymbolicLink':
        clear(path, false);
        // The target is resolved inside the container's root, never here: any value is allowed.
        symlinkSync(entry.linkpath ?? '', path);
        if (asRoot && entry.uid !== undefined && entry.gid !== undefined) lchownSync(path, entry.uid, entry.gid);
        if (entry.mtime) lutimesSync(path, entry.mtime, entry.mtime);
        return;
      case 'Link': {
        const target = memberPath(entry.linkpath ?? '');
        if (target === '') throw new Error(`layer member "${entry.path}" hard-links the layer root`);
        ensureParents(root, target);
        if (!lstatSync(join(root, target), { throwIfNoEntry: false })) throw new Error(`layer member "${entry.path}" hard-links "${target}", which is not in the layer`);
        clear(path, false);
        linkSync(join(root, target), path);
        return;
      }
      default:
        // Device nodes and FIFOs: runc makes /dev for the container; images carry none worth keeping.
        return;
    }
  };
  let finished = false;
  let wake: (() => void) | undefined;
  const waitForParser = (): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
    });
  const settle = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // strict: a damaged tar fails the unpack rather than being warned about.
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry) => {
      if (failure === undefined) {
        try {
          onEntry(entry);
        } catch (err) {
          failure = err;
        }
      }
      // Entries without a body listener still have to end for the parser to go on.
      entry.resume();
    },
  });
  parser.on('error', (err: unknown) => {
    failure ??= err;
    settle();
  });
  parser.on('drain', settle);
  parser.on('end', () => {
    finished = true;
    settle();
  });
  return {
    async write(chunk) {
      // The waiter is set before writing: the parser may signal during the call.
      const ready = waitForParser();
      if (failure === undefined && !parser.write(chunk)) await ready;
      if (failure !== undefined) throw failure;
    },
    async end() {
      let ready = waitForParser();
      if (failure === undefined) parser.end();
      while (failure === undefined && !finished) {
        await ready;
        ready = waitForParser();
      }
      if (failure !== undefined) throw failure;
      for (const d of dirs.reverse()) {
        if (asRoot && d.uid !== undefined && d.gid !== undefined) chownSync(d.path, d.uid, d.gid);
        chmodSync(d.path, d.mode);
        if (d.mtime) utimesSync(d.path, d.mtime, d.mtime);
      }
    },
  };
}
