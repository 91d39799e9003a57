// EndpointSlice (discovery.k8s.io/v1): a scalable slice of a service's endpoints.
import type { EndpointSlice as EndpointSliceV1, Endpoint, EndpointPort } from 'kubernetes-types/discovery/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import {
  type FieldError,
  Path,
  duplicate,
  invalid,
  isDNS1123Label,
  isDNS1123Subdomain,
  isValidLabelValue,
  notSupported,
  required,
  validateLabels,
} from '../../machinery/validation.js';
import {
  PORT_PROTOCOLS,
  isIPv4Bytes,
  parseIP,
  validateDNS1123Label,
  validateNodeNameField,
  validateNonSpecialIP,
  validateQualifiedName,
} from '../core/endpoints.js';

export type EndpointSlice = Mutable<EndpointSliceV1> & KubeObject;

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_ENDPOINTS = 1000;
const MAX_ZONE_HINTS = 8;

const tooMany = (path: Path, actual: number, max: number): FieldError => ({
  type: 'FieldValueTooMany',
  field: String(path),
  message: `Too many: ${actual}: must have at most ${max} items`,
});

/** validation.IsFullyQualifiedDomainName: at least two labels, an optional trailing dot. */
function validateFQDN(path: Path, value: string): FieldError[] {
  if (!value) return [required(path)];
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const subdomain = isDNS1123Subdomain(name);
  if (subdomain.length) return [invalid(path, name, subdomain.join(','))];
  const labels = name.split('.');
  if (labels.length < 2) return [invalid(path, name, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const errs = isDNS1123Label(label);
    if (errs.length) return [invalid(path, label, errs.join(','))];
  }
  return [];
}

function validateAddress(addressType: string, address: string, path: Path): FieldError[] {
  const ip = parseIP(address);
  switch (addressType) {
    case 'IPv4':
      return [...(ip && isIPv4Bytes(ip) ? [] : [invalid(path, address, 'must be a valid IPv4 address')]), ...validateNonSpecialIP(address, path)];
    case 'IPv6':
      return [...(ip && !isIPv4Bytes(ip) ? [] : [invalid(path, address, 'must be a valid IPv6 address')]), ...validateNonSpecialIP(address, path)];
    case 'FQDN':
      return validateFQDN(path, address);
    default:
      // Unknown address types are reported once, at addressType.
      return [];
  }
}

function validateEndpoint(ep: Mutable<Endpoint>, addressType: string, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const addressPath = path.child('addresses');
  const addresses = ep.addresses ?? [];
  if (addresses.length === 0) errs.push(required(addressPath, 'must contain at least 1 address'));
  else if (addresses.length > MAX_ADDRESSES) errs.push(tooMany(addressPath, addresses.length, MAX_ADDRESSES));
  addresses.forEach((a, i) => errs.push(...validateAddress(addressType, a, addressPath.index(i))));
  if (ep.nodeName !== undefined) errs.push(...validateNodeNameField(ep.nodeName, path.child('nodeName')));
  const topologyPath = path.child('deprecatedTopology');
  const topology = ep.deprecatedTopology ?? {};
  if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS)
    errs.push(tooMany(topologyPath, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
  errs.push(...validateLabels(topology, topologyPath));
  if (ep.hostname !== undefined) errs.push(...validateDNS1123Label(ep.hostname, path.child('hostname')));
  const zones = ep.hints?.forZones;
  if (zones) {
    const zonesPath = path.child('hints').child('forZones');
    if (zones.length > MAX_ZONE_HINTS) {
      errs.push(tooMany(zonesPath, zones.length, MAX_ZONE_HINTS));
    } else {
      const seen = new Set<string>();
      zones.forEach((z, i) => {
        const p = zonesPath.index(i).child('name');
        if (seen.has(z.name)) errs.push(duplicate(p, z.name));
        seen.add(z.name);
        for (const m of isValidLabelValue(z.name)) errs.push(invalid(p, z.name, m));
      });
    }
  }
  return errs;
}

function validatePorts(ports: Mutable<EndpointPort>[], path: Path): FieldError[] {
  if (ports.length > MAX_PORTS) return [tooMany(path, ports.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = path.index(i);
    const name = port.name ?? '';
    if (name) errs.push(...validateDNS1123Label(name, p.child('name')));
    if (names.has(name)) errs.push(duplicate(p.child('name'), name));
    names.add(name);
    if (!port.protocol) errs.push(required(p.child('protocol')));
    else if (!PORT_PROTOCOLS.includes(port.protocol)) errs.push(notSupported(p.child('protocol'), port.protocol, PORT_PROTOCOLS));
    if (port.appProtocol !== undefined) errs.push(...validateQualifiedName(port.appProtocol, p.child('appProtocol')));
  });
  return errs;
}

function validateEndpointSlice(slice: EndpointSlice): FieldError[] {
  const errs: FieldError[] = [];
  const typePath = Path.root('addressType');
  if (!slice.addressType) errs.push(required(typePath));
  else if (!ADDRESS_TYPES.includes(slice.addressType)) errs.push(notSupported(typePath, slice.addressType, ADDRESS_TYPES));
  const endpoints = slice.endpoints ?? [];
  const endpointsPath = Path.root('endpoints');
  if (endpoints.length > MAX_ENDPOINTS) errs.push(tooMany(endpointsPath, endpoints.length, MAX_ENDPOINTS));
  else endpoints.forEach((ep, i) => errs.push(...validateEndpoint(ep, slice.addressType, endpointsPath.index(i))));
  errs.push(...validatePorts(slice.ports ?? [], Path.root('ports')));
  return errs;
}

/** Up to three items, then `+ N more...`; `<unset>` when there are none. */
function listWithMore(items: string[]): string {
  const max = 3;
  if (items.length > max) return `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
  return items.length ? items.join(',') : '<unset>';
}

export const kind: KindDef<EndpointSlice> = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  resource: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  // Consumers use the generation to tell whether a slice changed.
  generation: true,

  defaults(slice) {
    for (const port of slice.ports ?? []) {
      port.name ??= '';
      port.protocol ??= 'TCP';
    }
  },

  validate: validateEndpointSlice,

  validateUpdate(slice, old) {
    const errs = validateEndpointSlice(slice);
    if (slice.addressType !== old.addressType)
      errs.push(invalid(Path.root('addressType'), slice.addressType, 'field is immutable'));
    return errs;
  },

  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
      { name: 'AddressType', type: 'string', description: 'The type of the addresses in the slice.', priority: 0 },
      { name: 'Ports', type: 'string', description: 'The ports of the endpoints.', priority: 0 },
      { name: 'Endpoints', type: 'string', description: 'The addresses of the endpoints.', priority: 0 },
      { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 },
    ],
    row: (slice, now) => [
      slice.metadata.name,
      slice.addressType,
      listWithMore((slice.ports ?? []).map((p) => (p.port !== undefined ? String(p.port) : (p.name ?? '*')))),
      listWithMore((slice.endpoints ?? []).flatMap((ep) => ep.addresses ?? [])),
      age(slice.metadata.creationTimestamp, now),
    ],
  },
};
