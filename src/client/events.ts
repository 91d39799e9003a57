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

export class EventRecorder {
  private readonly events: ResourceClient<KubeObject>;
  private readonly recent = new Map<string, Recorded>();
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
