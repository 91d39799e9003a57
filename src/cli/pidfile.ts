// `<data-dir>/berth.pid`: which berth runs on a data dir. Two berths on one data dir would share
// one SQLite store and one runc state directory, so `berth up` takes the file and refuses while
// the berth named there lives; `berth down` finds the berth to stop there. One left by a killed
// berth names a pid that is gone (or reused by another program) and is taken over.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const pidFile = (dataDir: string) => join(dataDir, 'berth.pid');

/** Whether `pid` is a live (not zombie) `berth up` process. */
export function isBerthUp(pid: number): boolean {
  let stat: string;
  let cmdline: string[];
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  // The state follows the command name in parentheses, which may itself hold parentheses.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X' && cmdline.includes('up');
}

/** The pid of the berth running on the data dir, if one does. */
export function runningBerth(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(dataDir), 'utf8').trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isBerthUp(pid) ? pid : undefined;
}

/**
 * Names this process in the data dir's pid file; throws when another berth runs there. Returns
 * the release, which removes the file while it still names this process.
 */
export function claimPidFile(dataDir: string): () => void {
  const path = pidFile(dataDir);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let content: string;
    try {
      content = readFileSync(path, 'utf8');
    } catch {
      continue; // just removed: try again
    }
    // An empty file is one being written by a berth starting right now.
    if (content.trim() === '' && attempt < 50) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      continue;
    }
    const other = runningBerth(dataDir);
    if (other !== undefined) {
      throw new Error(`another berth (pid ${other}) is running on ${dataDir}; stop it first (berth down --data-dir ${dataDir})`);
    }
    // Stale; a berth starting at this very moment wins the next exclusive create instead of us.
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return () => {
    try {
      if (Number(readFileSync(path, 'utf8').trim()) === process.pid) unlinkSync(path);
    } catch {
      // Already gone.
    }
  };
}
