// Every kind berth serves. The API server, discovery and OpenAPI are built from this list.
import type { KindDef } from './types.js';
import { kind as namespaces } from './core/namespaces.js';
import { kind as pods } from './core/pods.js';
import { kind as services } from './core/services.js';
import { kind as endpoints } from './core/endpoints.js';
import { kind as configmaps } from './core/configmaps.js';
import { kind as secrets } from './core/secrets.js';
import { kind as events } from './core/events.js';
import { kind as persistentvolumes } from './core/persistentvolumes.js';
import { kind as persistentvolumeclaims } from './core/persistentvolumeclaims.js';
import { kind as nodes } from './core/nodes.js';
import { kind as statefulsets } from './apps/statefulsets.js';
import { kind as controllerrevisions } from './apps/controllerrevisions.js';
import { kind as storageclasses } from './storage/storageclasses.js';
import { kind as endpointslices } from './discovery/endpointslices.js';
import { kind as leases } from './coordination/leases.js';
import { kind as eventsV1 } from './events/events.js';

export const kinds: KindDef[] = [
  namespaces,
  pods,
  services,
  endpoints,
  configmaps,
  secrets,
  events,
  persistentvolumes,
  persistentvolumeclaims,
  nodes,
  statefulsets,
  controllerrevisions,
  storageclasses,
  endpointslices,
  leases,
  eventsV1,
] as KindDef[];
