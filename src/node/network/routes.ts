// Keeps the cluster's private ranges on this machine. Without a route of their own, an address
// of the pod range outside the node's bridge, or any service address (which has no interface
// until a service proxy exists), would follow the host's default route out through the uplink.
// An `unreachable` route for each range answers such traffic at once with "no route to host"
// instead. Its metric is high, so the bridge's own connected route (and a future proxy's) wins
// wherever one exists, and no packet for these ranges leaves the machine.
import { runTool } from '../../volumes/tools.js';

export const POD_RANGE = '10.244.0.0/16';
export const SERVICE_RANGE = '10.96.0.0/12';

/** Above any route berth or the kernel adds for these ranges, so those take precedence. */
export const LOCAL_ROUTE_METRIC = 4000;

export interface LocalRoute {
  dst: string;
  metric: number;
}

export function localRoutes(ranges: readonly string[] = [POD_RANGE, SERVICE_RANGE]): LocalRoute[] {
  return ranges.map((dst) => ({ dst, metric: LOCAL_ROUTE_METRIC }));
}

const routeArgs = (r: LocalRoute) => ['unreachable', r.dst, 'metric', String(r.metric)];

/** Adds the routes; `replace` makes it idempotent, across restarts too. */
export async function ensureLocalRoutes(routes: readonly LocalRoute[]): Promise<void> {
  for (const r of routes) await runTool('ip', ['-4', 'route', 'replace', ...routeArgs(r)]);
}

/** Removes the routes; one already gone is fine. */
export async function removeLocalRoutes(routes: readonly LocalRoute[]): Promise<void> {
  for (const r of routes) {
    const shown = await runTool('ip', ['-4', 'route', 'show', 'exact', r.dst, 'type', 'unreachable', 'metric', String(r.metric)]);
    if (shown.stdout.trim() !== '') await runTool('ip', ['-4', 'route', 'delete', ...routeArgs(r)]);
  }
}
