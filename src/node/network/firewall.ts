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

/** The nat chains the portmap plugin shares between all pods (it adds them, and never removes them). */
const PORTMAP_CHAINS = ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-MASQ', 'CNI-HOSTPORT-SETMARK'];

/** `iptables -S` words, with double-quoted ones (comments) kept whole. */
export function iptablesWords(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!));
}

/**
 * Removes portmap's shared chains once no pod maps a host port through them any more (their
 * DNAT chain holds no rule): what a berth that ran hostPort pods would otherwise leave in the nat
 * table. Chains another user still needs are left alone.
 */
export async function removeIdlePortmapChains(): Promise<void> {
  const dnat = await runTool('iptables', ['-t', 'nat', '-S', 'CNI-HOSTPORT-DNAT'], [0, 1]);
  if (dnat.exitCode !== 0 || dnat.stdout.split('\n').some((l) => l.startsWith('-A '))) return;
  const { stdout } = await runTool('iptables', ['-t', 'nat', '-S']);
  const jumps = stdout.split('\n').filter((l) => l.startsWith('-A ') && PORTMAP_CHAINS.some((c) => l.includes(`-j ${c}`)) && !PORTMAP_CHAINS.some((c) => l.startsWith(`-A ${c} `)));
  for (const rule of jumps) await runTool('iptables', ['-t', 'nat', '-D', ...iptablesWords(rule).slice(1)], [0, 1]);
  for (const chain of PORTMAP_CHAINS) await runTool('iptables', ['-t', 'nat', '-F', chain], [0, 1]);
  for (const chain of PORTMAP_CHAINS) await runTool('iptables', ['-t', 'nat', '-X', chain], [0, 1]);
}
