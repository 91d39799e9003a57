// The NodePorts filter's arithmetic: the host ports a pod asks for, and whether they clash with
// those of the pods on a node (same protocol and port, and the same host IP or either on all
// addresses, as kube-scheduler's HostPortInfo). Pure.
import type { Pod } from '../api/core/pods.js';

const ANY = '0.0.0.0';

/** `<protocol>/<hostIP>/<port>` for every hostPort of the pod's containers (init containers too). */
export function podHostPorts(pod: Pod): string[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].flatMap((c) =>
    (c.ports ?? []).filter((p) => p.hostPort).map((p) => `${p.protocol ?? 'TCP'}/${p.hostIP || ANY}/${p.hostPort}`),
  );
}

/** Whether any of `wanted` clashes with what a node's pods hold (`used`: key to how many pods hold it). */
export function hostPortsConflict(wanted: readonly string[], used: ReadonlyMap<string, number> | undefined): boolean {
  if (!used?.size) return false;
  return wanted.some((key) => {
    const [protocol, ip, port] = key.split('/');
    if (ip === ANY) return [...used.keys()].some((u) => u.startsWith(`${protocol}/`) && u.endsWith(`/${port}`));
    return used.has(key) || used.has(`${protocol}/${ANY}/${port}`);
  });
}
