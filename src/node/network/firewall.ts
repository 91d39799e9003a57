// Keeps pod traffic on this machine. The bridge plugin turns IPv4 forwarding on for its gateway,
// which would let a pod's packets be routed out through the uplink; a FORWARD rule dropping
// whatever comes in on the pod bridge and leaves by any other interface stops that, while pod to
// pod (bridge to bridge) and pod to host (INPUT, not FORWARD) traffic still passes.
import { readFile, writeFile } from 'node:fs/promises';
import { runTool } from '../../volumes/tools.js';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

const ruleArgs = (bridge: string) => ['FORWARD', '-i', bridge, '!', '-o', bridge, '-m', 'comment', '--comment', 'berth: pod traffic stays on this host', '-j', 'DROP'];

/** Inserts the rule first in FORWARD, once (idempotent across restarts). */
export async function ensureForwardDrop(bridge: string): Promise<void> {
  const present = await runTool('iptables', ['-C', ...ruleArgs(bridge)], [0, 1]);
  if (present.exitCode !== 0) await runTool('iptables', ['-I', ...ruleArgs(bridge)]);
}

/** Removes every copy of the rule; none left is fine. */
export async function removeForwardDrop(bridge: string): Promise<void> {
  while ((await runTool('iptables', ['-C', ...ruleArgs(bridge)], [0, 1])).exitCode === 0) await runTool('iptables', ['-D', ...ruleArgs(bridge)]);
}

export async function forwardDropPresent(bridge: string): Promise<boolean> {
  return (await runTool('iptables', ['-C', ...ruleArgs(bridge)], [0, 1])).exitCode === 0;
}

export const readIpForward = () => readFile(IP_FORWARD, 'utf8');
export const writeIpForward = (value: string) => writeFile(IP_FORWARD, value);
