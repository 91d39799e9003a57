// Event (events.k8s.io/v1): the structured event API. Kubernetes stores it as the same
// type as core/v1 Event, so validation and printing go through the core shape, with
// field paths named as the core type names them.
import type { Event as EventsV1 } from 'kubernetes-types/events/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import {
  type Event as CoreEvent,
  eventTable,
  objectReferenceSelectors,
  validateEvent,
  validateEventUpdate,
} from '../core/events.js';

export type Event = Mutable<EventsV1> & KubeObject;

/** The events.k8s.io/v1 → core/v1 field mapping (Kubernetes' conversion functions). */
export function toCoreEvent(ev: Event): CoreEvent {
  return {
    metadata: ev.metadata,
    involvedObject: ev.regarding ?? {},
    reason: ev.reason,
    message: ev.note,
    source: ev.deprecatedSource,
    firstTimestamp: ev.deprecatedFirstTimestamp,
    lastTimestamp: ev.deprecatedLastTimestamp,
    count: ev.deprecatedCount,
    type: ev.type,
    eventTime: ev.eventTime,
    series: ev.series,
    action: ev.action,
    related: ev.related,
    reportingComponent: ev.reportingController,
    reportingInstance: ev.reportingInstance,
  };
}

/** The core/v1 → events.k8s.io/v1 field mapping. */
export function fromCoreEvent(ev: CoreEvent): Event {
  const out: Event = {
    metadata: ev.metadata,
    regarding: ev.involvedObject,
    reason: ev.reason,
    note: ev.message,
    deprecatedSource: ev.source,
    deprecatedFirstTimestamp: ev.firstTimestamp,
    deprecatedLastTimestamp: ev.lastTimestamp,
    deprecatedCount: ev.count,
    type: ev.type,
    eventTime: ev.eventTime as Event['eventTime'],
    series: ev.series as Event['series'],
    action: ev.action,
    related: ev.related,
    reportingController: ev.reportingComponent,
    reportingInstance: ev.reportingInstance,
  };
  // Absent fields stay absent (the JSON shows no nulls for them).
  for (const k of Object.keys(out) as (keyof Event)[]) if (out[k] === undefined) delete out[k];
  return out;
}

export const kind: KindDef<Event> = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  resource: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],

  storedAs: {
    group: '',
    version: 'v1',
    resource: 'events',
    toStored: (ev) => toCoreEvent(ev) as KubeObject,
    fromStored: (ev) => fromCoreEvent(ev as CoreEvent),
  },
  validate: (ev) => validateEvent(toCoreEvent(ev), true),
  validateUpdate: (ev, old) => validateEventUpdate(toCoreEvent(ev), toCoreEvent(old), true),

  // The field names events.k8s.io/v1 accepts, mapped onto the stored (core) fields.
  fieldSelectors: {
    ...objectReferenceSelectors('regarding', (ev: Event) => ev.regarding),
    reason: (ev) => ev.reason ?? '',
    reportingController: (ev) => ev.reportingController ?? '',
    type: (ev) => ev.type ?? '',
  },

  table: {
    columns: eventTable.columns,
    row: (ev, now) => eventTable.row(toCoreEvent(ev), now),
  },
};
