// Pods' network namespaces, made with iproute2 so `ip netns exec` and the CNI plugins find them
// as bind mounts under /var/run/netns.
import { existsSync } from 'node:fs';
import { runTool } from '../../volumes/tools.js';

const NETNS_DIR = '/var/run/netns';

export const netnsPath = (name: string) => `${NETNS_DIR}/${name}`;

/** Creates the namespace and returns its path; one left by a crash is reused. */
export async function createNetns(name: string): Promise<string> {
  if (!(await netnsExists(name))) await runTool('ip', ['netns', 'add', name]);
  return netnsPath(name);
}

/** Deletes the namespace, and with it the pod's end of every veth; a missing one is fine. */
export async function deleteNetns(name: string): Promise<void> {
  if (!(await netnsExists(name))) return;
  // Two teardowns may race (berth stopping while the agent removes a pod): the loser finds it gone.
  await runTool('ip', ['netns', 'delete', name]).catch(async (err: unknown) => {
    if (await netnsExists(name)) throw err;
  });
}

/** A namespace iproute2 made is a file under /var/run/netns (looked at directly: `ip netns list` is a process per call). */
export async function netnsExists(name: string): Promise<boolean> {
  return existsSync(netnsPath(name));
}
