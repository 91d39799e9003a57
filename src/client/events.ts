// An event recorder, as client-go's: core/v1 Events about an object, named
// `<object>.<hex time>`; a repeat of the same event (same object, type, reason
// and message) bumps the existing one's count and lastTimestamp instead of
// writing a new object. Recording never throws: events are best effort.
import type { Logger } from 'pino';
import type { KubeObject } from '../api/types.js';
import type { Client, ResourceClient } from './client.js';

export type EventType = 'Normal' | 'Warning';

interface Recorded {
  name: string;
  namespace: string;
  count: number;
}

const REMEMBERED = 4096;

/**
 * client-go's EventSourceObjectSpamFilter: per source and object, a burst of 25 events, then one
 * every 5 minutes; the rest are dropped. A StatefulSet creating a thousand pods records its first
 * 25 SuccessfulCreate events, as in Kubernetes, not a thousand.
 */
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 300_000;

class SpamFilter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  allow(key: string, now: number): boolean {
    const b = this.buckets.get(key) ?? { tokens: SPAM_BURST, at: now };
    b.tokens = Math.min(SPAM_BURST, b.tokens + (now - b.at) / SPAM_REFILL_MS);
    b.at = now;
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (this.buckets.size > REMEMBERED) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

export class EventRecorder {
  private readonly events: ResourceClient<KubeObject>;
  private readonly recent = new Map<string, Recorded>();
  private readonly spam = new SpamFilter();
  private seq = 0;

  constructor(
    client: Client,
    private readonly component: string,
    private readonly log: Logger,
    private readonly host = '',
  ) {
    this.events = client.resource({ group: '', version: 'v1', resource: 'events', namespaced: true });
  }

  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    if (!this.spam.allow(`${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}/${obj.metadata.uid}`, Date.now())) return;
    void this.record(obj, type, reason, message).catch((err: unknown) =>
      this.log.debug({ err, reason, object: obj.metadata.name }, 'event not recorded'),
    );
  }

  private async record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const m = obj.metadata;
    const namespace = m.namespace || 'default';
    const key = [m.uid, type, reason, message].join('\0');
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const seen = this.recent.get(key);
    if (seen) {
      seen.count++;
      this.recent.delete(key);
      this.recent.set(key, seen);
      await this.events.patch(seen.name, seen.namespace, 'merge', { count: seen.count, lastTimestamp: now });
      return;
    }
    // Nanoseconds as hex, as client-go names events; a counter keeps names unique within a millisecond.
    const suffix = (BigInt(Date.now()) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16);
    const name = `${m.name}.${suffix}`;
    this.recent.set(key, { name, namespace, count: 1 });
    if (this.recent.size > REMEMBERED) this.recent.delete(this.recent.keys().next().value!);
    await this.events.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: m.namespace,
        name: m.name,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component: this.component, ...(this.host ? { host: this.host } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.component,
      reportingInstance: this.host,
    });
  }
}
