// `berth down`: stops the berth running on a data dir (SIGTERM; it takes its containers along),
// then removes what a berth killed without that chance (kill -9, a crash) left on the host: its
// runc containers and their rootfs mounts, its pods' network namespaces and cgroups, the pod
// bridge, the FORWARD rule and the local routes. Only what belongs to this data dir is touched:
// namespaces and cgroups by the uids of the pods it holds, the bridge `berth up` recorded.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CniNetwork, findPluginDir } from '../node/network/cni.js';
import { removeForwardDrop, removeIdlePortmapChains } from '../node/network/firewall.js';
import { CGROUP_PARENT, podCgroup, removeCgroupEverywhere } from '../node/runtime/runc/cgroups.js';
import { deleteNetns, netnsExists, netnsPath } from '../node/network/netns.js';
import { localRoutes, removeLocalRoutes } from '../node/network/routes.js';
import { Runc } from '../node/runtime/runc/runc.js';
import { removeRootfs } from '../node/runtime/runc/rootfs.js';
import { findTool } from '../volumes/tools.js';
import { isBerthUp, pidFile, runningBerth } from './pidfile.js';

/** What `berth up` ran with, recorded in `<data-dir>/node.json` for `berth down`. */
export interface NodeRecord {
  runtime: string;
  podCIDR: string;
  bridge: string;
}

export const nodeRecordFile = (dataDir: string) => join(dataDir, 'node.json');

export function writeNodeRecord(dataDir: string, record: NodeRecord): void {
  writeFileSync(nodeRecordFile(dataDir), `${JSON.stringify(record, null, 2)}\n`);
}

function readNodeRecord(dataDir: string): NodeRecord | undefined {
  try {
    return JSON.parse(readFileSync(nodeRecordFile(dataDir), 'utf8')) as NodeRecord;
  } catch {
    return undefined;
  }
}

export interface DownOptions {
  dataDir: string;
  /** How long to wait for a running berth to exit. */
  timeoutSeconds?: number;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

export async function down(opts: DownOptions): Promise<void> {
  const { dataDir } = opts;
  if (!existsSync(dataDir)) {
    say(`no berth data dir at ${dataDir}`);
    return;
  }
  const pid = runningBerth(dataDir);
  if (pid !== undefined) {
    say(`stopping berth (pid ${pid}) on ${dataDir}`);
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + (opts.timeoutSeconds ?? 60) * 1000;
    while (isBerthUp(pid)) {
      if (Date.now() > deadline) throw new Error(`berth (pid ${pid}) did not exit within ${opts.timeoutSeconds ?? 60} s`);
      await sleep(100);
    }
    say(`berth (pid ${pid}) stopped`);
  }
  const removed = await removeLeftovers(dataDir);
  for (const line of removed) say(`removed ${line}`);
  if (pid === undefined && !removed.length) say(`no berth running on ${dataDir}, nothing left to remove`);
  await rm(pidFile(dataDir), { force: true });
}

/** Removes what a berth killed on this data dir left on the host; returns what it removed. */
export async function removeLeftovers(dataDir: string): Promise<string[]> {
  const record = readNodeRecord(dataDir);
  if (record?.runtime !== 'runc' && !existsSync(join(dataDir, 'runc'))) return [];
  const removed: string[] = [];
  const uids = new Set<string>();

  if (existsSync(join(dataDir, 'runc')) && findTool('runc')) {
    const runc = new Runc(dataDir);
    for (const state of await runc.list()) {
      await runc.delete(state.id, { force: true });
      removed.push(`container ${state.id} (${state.status})`);
      const i = state.id.indexOf('_');
      if (i > 0) uids.add(state.id.slice(0, i));
    }
  }
  for (const id of await readdir(join(dataDir, 'containers')).catch(() => [] as string[])) {
    await removeRootfs(dataDir, id);
    removed.push(`rootfs of ${id}`);
  }
  // Pod dirs are `<namespace>_<name>_<uid>`; the sandbox's dir is made before its namespace.
  for (const d of await readdir(join(dataDir, 'pods')).catch(() => [] as string[])) uids.add(d.slice(d.lastIndexOf('_') + 1));

  const cni = record && findPluginDir() !== undefined ? new CniNetwork({ podCIDR: record.podCIDR, bridge: record.bridge, dataDir: join(dataDir, 'cni') }) : undefined;
  for (const uid of uids) {
    const netns = `berth-${uid}`;
    if (await netnsExists(netns)) {
      await cni?.del(uid, netnsPath(netns)).catch(() => undefined);
      await deleteNetns(netns);
      removed.push(`network namespace ${netns}`);
    }
    if (await removeCgroupEverywhere(podCgroup(uid))) removed.push(`cgroup ${podCgroup(uid)}`);
  }
  if (record) {
    const bridgeExists = existsSync(`/sys/class/net/${record.bridge}`);
    await cni?.teardown();
    if (bridgeExists) removed.push(`bridge ${record.bridge}`);
    await removeForwardDrop(record.bridge);
    await removeIdlePortmapChains();
    await removeLocalRoutes(localRoutes());
  }
  // The parent cgroup goes once no berth's pods are under it (rmdir fails on a group in use).
  await removeCgroupEverywhere(CGROUP_PARENT);
  return removed;
}
