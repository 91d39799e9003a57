// Endpoints (core/v1): the addresses behind a service. This module also holds the
// address and port checks Kubernetes shares between Endpoints, EndpointSlices and
// Service external IPs (pkg/apis/core/validation).
import type { EndpointAddress, EndpointPort, Endpoints as EndpointsV1 } from 'kubernetes-types/core/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import {
  type FieldError,
  Path,
  invalid,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  notSupported,
  required,
} from '../../machinery/validation.js';

export type Endpoints = Mutable<EndpointsV1> & KubeObject;

// --- IP addresses -------------------------------------------------------------

/**
 * Parses an address the way Kubernetes' ParseIPSloppy does (Go's pre-1.17 net.ParseIP:
 * IPv4 octets may carry leading zeros). Returns 16 bytes, IPv4 in IPv4-mapped form.
 */
export function parseIP(text: string): Uint8Array | undefined {
  if (text.includes(':')) return parseIPv6(text);
  const v4 = parseIPv4(text);
  if (!v4) return undefined;
  const ip = new Uint8Array(16);
  ip[10] = 0xff;
  ip[11] = 0xff;
  ip.set(v4, 12);
  return ip;
}

function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]+$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    octets.push(n);
  }
  return octets;
}

function parseIPv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const ellipsis = halves.length === 2;
  const head = parseGroups(halves[0], !ellipsis);
  const tail = ellipsis ? parseGroups(halves[1], true) : [];
  if (!head || !tail) return undefined;
  const total = head.length + tail.length;
  // Without "::" all 16 bytes are spelled out; with it, "::" stands for at least one group.
  if (ellipsis ? total > 14 : total !== 16) return undefined;
  const ip = new Uint8Array(16);
  ip.set(head, 0);
  ip.set(tail, 16 - tail.length);
  return ip;
}

/** Colon-separated hex groups as bytes; the last group may be a dotted IPv4 address. */
function parseGroups(text: string, ipv4Allowed: boolean): number[] | undefined {
  if (text === '') return [];
  const groups = text.split(':');
  const bytes: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (i === groups.length - 1 && ipv4Allowed && g.includes('.')) {
      const v4 = parseIPv4(g);
      if (!v4) return undefined;
      bytes.push(...v4);
      continue;
    }
    if (!/^[0-9a-fA-F]+$/.test(g)) return undefined;
    const n = parseInt(g, 16);
    if (n > 0xffff) return undefined;
    bytes.push(n >> 8, n & 0xff);
  }
  return bytes;
}

/** True for IPv4 addresses, including IPv4-mapped IPv6 ones (Go's To4() != nil). */
export function isIPv4Bytes(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/** validation.IsValidIP. */
export function validateIP(path: Path, value: string): FieldError[] {
  return parseIP(value) ? [] : [invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

/**
 * ValidateNonSpecialIP: unspecified, loopback and link-local addresses make no sense
 * as service or endpoint addresses.
 */
export function validateNonSpecialIP(value: string, path: Path): FieldError[] {
  const ip = parseIP(value);
  if (!ip) return [invalid(path, value, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  const v4 = isIPv4Bytes(ip);
  const zero = v4 ? ip.subarray(12).every((b) => b === 0) : ip.every((b) => b === 0);
  const loopback = v4 ? ip[12] === 127 : ip.subarray(0, 15).every((b) => b === 0) && ip[15] === 1;
  const linkLocal = v4 ? ip[12] === 169 && ip[13] === 254 : ip[0] === 0xfe && (ip[1] & 0xc0) === 0x80;
  const linkLocalMulticast = v4 ? ip[12] === 224 && ip[13] === 0 && ip[14] === 0 : ip[0] === 0xff && (ip[1] & 0x0f) === 0x02;
  if (zero) errs.push(invalid(path, value, `may not be unspecified (${value})`));
  if (loopback) errs.push(invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocal) errs.push(invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (linkLocalMulticast)
    errs.push(invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

/** The address of a CIDR (ParseCIDRSloppy), or undefined when `text` is none. */
export function parseCIDR(text: string): Uint8Array | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  const ip = parseIP(addr);
  if (!ip || !/^[0-9]+$/.test(bits) || Number(bits) > (addr.includes(':') ? 128 : 32)) return undefined;
  return ip;
}

/** validation.IsValidCIDR. */
export function validateCIDR(path: Path, value: string): FieldError[] {
  return parseCIDR(value) ? [] : [invalid(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

// --- ports and names ----------------------------------------------------------

/** Port protocols every port field accepts, in the order Kubernetes lists them. */
export const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** validation.IsValidPortNum. */
export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** validation.IsValidPortName (an IANA_SVC_NAME). */
export function isValidPortName(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errs.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** ValidateDNS1123Label: one Invalid error per problem. */
export function validateDNS1123Label(value: string, path: Path): FieldError[] {
  return isDNS1123Label(value).map((m) => invalid(path, value, m));
}

/** ValidateQualifiedName: one Invalid error per problem. */
export function validateQualifiedName(value: string, path: Path): FieldError[] {
  return isQualifiedName(value).map((m) => invalid(path, value, m));
}

/** Node names are DNS subdomains (ValidateNodeName). */
export function validateNodeNameField(value: string, path: Path): FieldError[] {
  return isDNS1123Subdomain(value).map((m) => invalid(path, value, m));
}

// --- Endpoints ----------------------------------------------------------------

function validateAddress(address: Mutable<EndpointAddress>, path: Path): FieldError[] {
  const errs = validateIP(path.child('ip'), address.ip);
  if (address.hostname) errs.push(...validateDNS1123Label(address.hostname, path.child('hostname')));
  if (address.nodeName !== undefined) errs.push(...validateNodeNameField(address.nodeName, path.child('nodeName')));
  errs.push(...validateNonSpecialIP(address.ip, path.child('ip')));
  return errs;
}

function validatePort(port: Mutable<EndpointPort>, requireName: boolean, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !port.name) errs.push(required(path.child('name')));
  else if (port.name) errs.push(...validateDNS1123Label(port.name, path.child('name')));
  for (const m of isValidPortNum(port.port ?? 0)) errs.push(invalid(path.child('port'), port.port ?? 0, m));
  if (!port.protocol) errs.push(required(path.child('protocol')));
  else if (!PORT_PROTOCOLS.includes(port.protocol))
    errs.push(notSupported(path.child('protocol'), port.protocol, PORT_PROTOCOLS));
  if (port.appProtocol !== undefined) errs.push(...validateQualifiedName(port.appProtocol, path.child('appProtocol')));
  return errs;
}

function validateEndpoints(obj: Endpoints): FieldError[] {
  const errs: FieldError[] = [];
  const subsetsPath = Path.root('subsets');
  (obj.subsets ?? []).forEach((ss, i) => {
    const p = subsetsPath.index(i);
    // A headless service's endpoints may have no ports, but never no addresses.
    if (!ss.addresses?.length && !ss.notReadyAddresses?.length)
      errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    (ss.addresses ?? []).forEach((a, j) => errs.push(...validateAddress(a, p.child('addresses').index(j))));
    (ss.notReadyAddresses ?? []).forEach((a, j) =>
      errs.push(...validateAddress(a, p.child('notReadyAddresses').index(j))),
    );
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => errs.push(...validatePort(port, ports.length > 1, p.child('ports').index(j))));
  });
  return errs;
}

/** The ENDPOINTS cell: up to three `ip:port` pairs, then `+ N more...`. */
function formatEndpoints(obj: Endpoints): string {
  const subsets = obj.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    if (!ss.ports?.length) {
      // Headless services may have endpoints without ports.
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ss.ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip.includes(':') ? `[${a.ip}]:${port.port}` : `${a.ip}:${port.port}`);
      }
    }
  }
  const text = list.join(',');
  return more ? `${text} + ${count - max} more...` : text;
}

export const kind: KindDef<Endpoints> = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  resource: 'endpoints',
  singular: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],

  defaults(obj) {
    for (const ss of obj.subsets ?? []) for (const port of ss.ports ?? []) port.protocol ||= 'TCP';
  },

  validate: validateEndpoints,
  validateUpdate: validateEndpoints,

  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
      { name: 'Endpoints', type: 'string', description: 'The addresses and ports behind the service.', priority: 0 },
      { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 },
    ],
    row: (obj, now) => [obj.metadata.name, formatEndpoints(obj), age(obj.metadata.creationTimestamp, now)],
  },
};
