// The container restart back-off (CrashLoopBackOff), as the kubelet keeps it per container
// (client-go's flowcontrol.Backoff used by kuberuntime's doBackOff). Pure: an entry per
// container, keyed by the caller (the kubelet keys by pod, container name and spec hash, so a
// changed spec starts over).
import type { Pod } from '../../api/core/pods.js';
import { crashLoopMessage } from '../runtime/messages.js';

export interface BackOffPolicy {
  /** The first back-off, ms (the kubelet's 10 s). */
  initialMs: number;
  /** The cap, ms (5 min). An entry older than twice the cap is forgotten. */
  maxMs: number;
}

export const KUBELET_BACKOFF: BackOffPolicy = { initialMs: 10_000, maxMs: 300_000 };

export interface BackOffEntry {
  /** The current back-off, ms. */
  backOffMs: number;
  /** The finish time of the failure that last set it, ms since the epoch. */
  lastUpdate: number;
}

/** flowcontrol's hasExpired: a container that ran 2 × cap without failing starts over. */
function expired(entry: BackOffEntry, eventTime: number, policy: BackOffPolicy): boolean {
  return eventTime - entry.lastUpdate > 2 * policy.maxMs;
}

export type BackOffDecision =
  /** Restart now; keep the new entry. */
  | { restart: true; entry: BackOffEntry }
  /** Still backing off: the container waits in CrashLoopBackOff until `until` (ms). */
  | { restart: false; entry: BackOffEntry; backOffMs: number; until: number };

/**
 * doBackOff for a container that finished at `finishedAt` (ms) and may be restarted, at `now`.
 * The first failure restarts at once; each following one within 2 × cap doubles the wait.
 */
export function decideRestart(
  entry: BackOffEntry | undefined,
  finishedAt: number,
  now: number,
  policy: BackOffPolicy = KUBELET_BACKOFF,
): BackOffDecision {
  if (entry && !expired(entry, finishedAt, policy) && now - finishedAt < entry.backOffMs) {
    return { restart: false, entry, backOffMs: entry.backOffMs, until: finishedAt + entry.backOffMs };
  }
  // flowcontrol's Next: start over when new or expired, else double up to the cap.
  const backOffMs = !entry || expired(entry, finishedAt, policy) ? policy.initialMs : Math.min(entry.backOffMs * 2, policy.maxMs);
  return { restart: true, entry: { backOffMs, lastUpdate: finishedAt } };
}

/** Whether an entry can be dropped at `now` (flowcontrol's GC). */
export function backOffExpired(entry: BackOffEntry, now: number, policy: BackOffPolicy = KUBELET_BACKOFF): boolean {
  return expired(entry, now, policy);
}

/** The waiting message: `back-off 20s restarting failed container=c pod=p_ns(uid)`. */
export function backOffMessage(backOffMs: number, container: string, pod: Pod): string {
  return crashLoopMessage(Math.round(backOffMs / 1000), container, pod);
}
