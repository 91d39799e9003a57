// Event (core/v1). Kubernetes keeps one Event type behind two APIs: core/v1 (legacy,
// loosely validated) and events.k8s.io/v1 (strict). The validation and printing here
// work on the core shape; events.k8s.io/v1 converts to it.
import type { Event as EventV1, ObjectReference } from 'kubernetes-types/core/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import { deepEqual } from '../../machinery/objects.js';
import { type FieldError, Path, invalid, isQualifiedName, required } from '../../machinery/validation.js';

export type Event = Mutable<EventV1> & KubeObject;

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

/** Core events are only checked as URL path segments (their names often hold dots and colons). */
function isPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  for (const c of ['/', '%']) if (name.includes(c)) errs.push(`may not contain '${c}'`);
  return errs;
}

const tooLongText = (path: Path, limit: number): FieldError => invalid(path, '', `can have at most ${limit} characters`);

/** legacyValidateEvent: what every event must satisfy, whichever API wrote it. */
function validateLegacy(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  const involvedNs = ev.involvedObject?.namespace ?? '';
  const ns = ev.metadata.namespace ?? '';
  const nsPath = Path.root('involvedObject').child('namespace');
  const mismatch = () => invalid(nsPath, involvedNs, 'does not match event.namespace');
  if (!ev.eventTime) {
    // Old-style events: the event lives in its object's namespace ("default" for cluster objects).
    if (!involvedNs) {
      if (ns !== '' && ns !== 'default') errs.push(mismatch());
    } else if (ns !== involvedNs) {
      errs.push(mismatch());
    }
    return errs;
  }
  if (!involvedNs && ns !== 'default' && ns !== 'kube-system') errs.push(mismatch());
  const controller = ev.reportingComponent ?? '';
  if (!controller) errs.push(required(Path.root('reportingController')));
  for (const m of isQualifiedName(controller)) errs.push(invalid(Path.root('reportingController'), controller, m));
  const instance = ev.reportingInstance ?? '';
  if (!instance) errs.push(required(Path.root('reportingInstance')));
  if (Buffer.byteLength(instance) > REPORTING_INSTANCE_LIMIT)
    errs.push(tooLongText(Path.root('reportingInstance'), REPORTING_INSTANCE_LIMIT));
  const action = ev.action ?? '';
  if (!action) errs.push(required(Path.root('action')));
  if (Buffer.byteLength(action) > ACTION_LIMIT) errs.push(tooLongText(Path.root('action'), ACTION_LIMIT));
  const reason = ev.reason ?? '';
  if (!reason) errs.push(required(Path.root('reason')));
  if (Buffer.byteLength(reason) > REASON_LIMIT) errs.push(tooLongText(Path.root('reason'), REASON_LIMIT));
  if (Buffer.byteLength(ev.message ?? '') > NOTE_LIMIT) errs.push(tooLongText(Path.root('message'), NOTE_LIMIT));
  return errs;
}

function validateSeries(ev: Event): FieldError[] {
  if (!ev.series) return [];
  const errs: FieldError[] = [];
  // Kubernetes names these paths as single segments.
  if ((ev.series.count ?? 0) < 2) errs.push(invalid(Path.root('series.count'), '', 'should be at least 2'));
  if (!ev.series.lastObservedTime) errs.push(required(Path.root('series.lastObservedTime')));
  return errs;
}

/**
 * ValidateEventCreate. `strict` is set for writes through events.k8s.io/v1, which must
 * use the new fields and leave the deprecated ones unset.
 */
export function validateEvent(ev: Event, strict: boolean): FieldError[] {
  const errs = validateLegacy(ev);
  if (!strict) return errs;
  errs.push(...validateSeries(ev));
  if (!ev.eventTime) errs.push(required(Path.root('eventTime')));
  if (ev.type !== 'Normal' && ev.type !== 'Warning')
    errs.push(invalid(Path.root('type'), '', `has invalid value: ${ev.type ?? ''}`));
  const unset = 'needs to be unset';
  if (ev.firstTimestamp) errs.push(invalid(Path.root('firstTimestamp'), '', unset));
  if (ev.lastTimestamp) errs.push(invalid(Path.root('lastTimestamp'), '', unset));
  if (ev.count) errs.push(invalid(Path.root('count'), '', unset));
  if (ev.source?.component || ev.source?.host) errs.push(invalid(Path.root('source'), '', unset));
  return errs;
}

// Go's printing of the values an immutable-field error shows.

function goString(v: string | undefined): string {
  return JSON.stringify(v ?? '');
}

function goObjectReference(ref: Mutable<ObjectReference> | undefined): string {
  const r = ref ?? {};
  return (
    `core.ObjectReference{Kind:${goString(r.kind)}, Namespace:${goString(r.namespace)}, Name:${goString(r.name)}, ` +
    `UID:${goString(r.uid)}, APIVersion:${goString(r.apiVersion)}, ResourceVersion:${goString(r.resourceVersion)}, ` +
    `FieldPath:${goString(r.fieldPath)}}`
  );
}

/** time.Time's String(): `2006-01-02 15:04:05.999999999 +0000 UTC`. */
function goTime(ts: string | undefined): string {
  if (!ts) return '0001-01-01 00:00:00 +0000 UTC';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  const frac = /\.(\d+)/.exec(ts)?.[1]?.replace(/0+$/, '');
  const base = d.toISOString().slice(0, 19).replace('T', ' ');
  return `${base}${frac ? `.${frac}` : ''} +0000 UTC`;
}

const immutable = (path: string, shown: string): FieldError => ({
  type: 'FieldValueInvalid',
  field: path,
  message: `Invalid value: ${shown}: field is immutable`,
});

/** ValidateEventUpdate: events.k8s.io/v1 writes may change little but the series. */
export function validateEventUpdate(ev: Event, old: Event, strict: boolean): FieldError[] {
  const errs = validateLegacy(ev);
  if (!strict) return errs;
  if (!deepEqual(ev.series, old.series)) errs.push(...validateSeries(ev));
  const checks: [string, unknown, unknown, string][] = [
    ['involvedObject', ev.involvedObject, old.involvedObject, goObjectReference(ev.involvedObject)],
    ['reason', ev.reason ?? '', old.reason ?? '', goString(ev.reason)],
    ['message', ev.message ?? '', old.message ?? '', goString(ev.message)],
    [
      'source',
      ev.source ?? {},
      old.source ?? {},
      `core.EventSource{Component:${goString(ev.source?.component)}, Host:${goString(ev.source?.host)}}`,
    ],
    ['firstTimestamp', ev.firstTimestamp, old.firstTimestamp, goTime(ev.firstTimestamp)],
    ['lastTimestamp', ev.lastTimestamp, old.lastTimestamp, goTime(ev.lastTimestamp)],
    ['count', ev.count ?? 0, old.count ?? 0, String(ev.count ?? 0)],
    ['type', ev.type ?? '', old.type ?? '', goString(ev.type)],
    ['eventTime', ev.eventTime, old.eventTime, goTime(ev.eventTime)],
    ['action', ev.action ?? '', old.action ?? '', goString(ev.action)],
    ['related', ev.related, old.related, ev.related ? goObjectReference(ev.related) : 'null'],
    ['reportingController', ev.reportingComponent ?? '', old.reportingComponent ?? '', goString(ev.reportingComponent)],
    ['reportingInstance', ev.reportingInstance ?? '', old.reportingInstance ?? '', goString(ev.reportingInstance)],
  ];
  for (const [path, now, before, shown] of checks) if (!deepEqual(now, before)) errs.push(immutable(path, shown));
  return errs;
}

/** Field selectors on the fields of the object an event is about, named `<prefix>.kind` and so
 *  on: involvedObject in core/v1, regarding in events.k8s.io/v1. */
export function objectReferenceSelectors<T>(
  prefix: string,
  ref: (ev: T) => Mutable<ObjectReference> | undefined,
): Record<string, (ev: T) => string> {
  const fields = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'] as const;
  return Object.fromEntries(fields.map((f) => [`${prefix}.${f}`, (ev: T) => ref(ev)?.[f] ?? '']));
}

/** formatEventSource: component (or reporting controller), then host (or instance). */
function sourceCell(ev: Event): string {
  const component = ev.source?.component || ev.reportingComponent || '';
  const instance = ev.source?.host || ev.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

/** The table both event APIs print, with kubectl's LAST SEEN fallbacks. */
export const eventTable: KindDef<Event>['table'] = {
  columns: [
    { name: 'Last Seen', type: 'string', description: 'Time since the event was last seen.', priority: 0 },
    { name: 'Type', type: 'string', description: 'Type of the event (Normal, Warning).', priority: 0 },
    { name: 'Reason', type: 'string', description: 'Why the event happened, in CamelCase.', priority: 0 },
    { name: 'Object', type: 'string', description: 'The object the event is about.', priority: 0 },
    { name: 'Subobject', type: 'string', description: 'The part of the object the event is about.', priority: 1 },
    { name: 'Source', type: 'string', description: 'The component that reported the event.', priority: 1 },
    { name: 'Message', type: 'string', description: 'What happened, for humans.', priority: 0 },
    { name: 'First Seen', type: 'string', description: 'Time since the event was first seen.', priority: 1 },
    { name: 'Count', type: 'string', description: 'How many times the event happened.', priority: 1 },
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 1 },
  ],
  row(ev, now) {
    const firstSeen = age(ev.firstTimestamp || ev.eventTime, now);
    let lastSeen = ev.lastTimestamp ? age(ev.lastTimestamp, now) : firstSeen;
    let count = ev.count ?? 0;
    if (ev.series) {
      lastSeen = age(ev.series.lastObservedTime, now);
      count = ev.series.count ?? 0;
    } else if (count === 0) {
      // Events written through events.k8s.io carry no count when they happened once.
      count = 1;
    }
    const io = ev.involvedObject ?? {};
    const kindName = (io.kind ?? '').toLowerCase();
    const target = io.name ? `${kindName}/${io.name}` : kindName;
    return [
      lastSeen,
      ev.type ?? '',
      ev.reason ?? '',
      target,
      io.fieldPath ?? '',
      sourceCell(ev),
      (ev.message ?? '').trim(),
      firstSeen,
      count,
      ev.metadata.name,
    ];
  },
};

export const kind: KindDef<Event> = {
  group: '',
  version: 'v1',
  kind: 'Event',
  resource: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  nameValidation: isPathSegmentName,

  validate: (ev) => validateEvent(ev, false),
  validateUpdate: (ev, old) => validateEventUpdate(ev, old, false),

  fieldSelectors: {
    ...objectReferenceSelectors('involvedObject', (ev: Event) => ev.involvedObject),
    reason: (ev) => ev.reason ?? '',
    reportingComponent: (ev) => ev.reportingComponent ?? '',
    source: (ev) => ev.source?.component || ev.reportingComponent || '',
    type: (ev) => ev.type ?? '',
  },

  table: eventTable,
};
