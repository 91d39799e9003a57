// Removing the cgroups runc made for a pod's containers (`/berth/pod<uid>/<container>` in every
// controller's hierarchy on cgroup v1, in the unified one on v2): runc removes a container's own
// group when it deletes the container, not the pod's parent, which is the node's to remove.
import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';
/** The parent of every pod's cgroups. */
export const CGROUP_PARENT = 'berth';

/** Removes a cgroup directory and its children, deepest first (cgroupfs only rmdirs empty groups); whether it existed. */
async function removeCgroup(path: string): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) if (e.isDirectory()) await removeCgroup(join(path, e.name));
  await rmdir(path).catch(() => undefined);
  return true;
}

/** Removes `relative` (e.g. `berth/pod<uid>`) under every hierarchy; whether any existed. A group in use stays. */
export async function removeCgroupEverywhere(relative: string): Promise<boolean> {
  let found = false;
  for (const controller of await readdir(CGROUP_ROOT).catch(() => [] as string[])) {
    if (await removeCgroup(join(CGROUP_ROOT, controller, relative))) found = true;
  }
  // cgroup v2: the group sits at the root of the unified hierarchy.
  if (await removeCgroup(join(CGROUP_ROOT, relative))) found = true;
  return found;
}

export const podCgroup = (uid: string) => join(CGROUP_PARENT, `pod${uid}`);
