// Service cluster IPs and node ports, allocated by the API server as
// kube-apiserver does: a service gets a free address of the service range
// (10.96.0.0/12 by default; .1 is the `kubernetes` service) and NodePort and
// LoadBalancer ports get free ports of 30000-32767. What is in use is read
// from the services cache, plus reservations of writes still in flight.
import { randomInt } from 'node:crypto';
import type { KubeObject } from '../api/types.js';
import { invalidError, invalid, Path, type FieldError } from '../machinery/validation.js';
import type { CacheEntry } from './cache.js';

interface ServicePort {
  name?: string;
  port?: number;
  nodePort?: number;
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: ServicePort[];
}

export interface ServiceRange {
  /** Network address as a 32-bit number. */
  base: number;
  size: number;
  cidr: string;
}

export const NODE_PORT_RANGE = { min: 30000, max: 32767 };

export function parseServiceCIDR(cidr: string): ServiceRange {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`service CIDR ${cidr} is not an IPv4 CIDR`);
  const bits = Number(m[5]);
  if (bits < 8 || bits > 30) throw new Error(`service CIDR ${cidr} must be between /8 and /30`);
  const ip = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const size = 2 ** (32 - bits);
  return { base: ip - (ip % size), size, cidr };
}

const toText = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const toNumber = (ip: string): number | undefined => {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  return m ? ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0 : undefined;
};

/** The first usable address: the `kubernetes` service's. */
export function firstServiceIP(range: ServiceRange): string {
  return toText(range.base + 1);
}

const goSlice = (xs: string[]) => `[]string{${xs.map((x) => JSON.stringify(x)).join(', ')}}`;

export class ServiceAllocator {
  private readonly reservedIPs = new Set<string>();
  private readonly reservedPorts = new Set<number>();

  constructor(
    private readonly range: ServiceRange,
    private readonly services: () => CacheEntry[],
  ) {}

  private usedIPs(exclude: string): Set<string> {
    const used = new Set(this.reservedIPs);
    for (const e of this.services())
      if (e.key !== exclude) for (const ip of (e.obj.spec as ServiceSpec | undefined)?.clusterIPs ?? []) used.add(ip);
    return used;
  }

  private usedPorts(exclude: string): Set<number> {
    const used = new Set(this.reservedPorts);
    for (const e of this.services())
      if (e.key !== exclude) for (const p of (e.obj.spec as ServiceSpec | undefined)?.ports ?? []) if (p.nodePort) used.add(p.nodePort);
    return used;
  }

  /**
   * Fills in the cluster IP and node ports a service needs and does not have (on create, and on
   * updates that change its type). Returns a function releasing the reservations once the write is
   * done (the cache then holds them) or failed. Throws a 422 for a requested IP or port that is
   * outside the range or taken.
   */
  allocate(key: string, obj: KubeObject): () => void {
    const spec = (obj.spec ?? {}) as ServiceSpec;
    const errs: FieldError[] = [];
    const ips: string[] = [];
    const ports: number[] = [];
    const specPath = Path.root('spec');
    if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None') {
      const used = this.usedIPs(key);
      if (!spec.clusterIP) {
        const ip = this.pickIP(used);
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
        ips.push(ip);
      } else {
        const n = toNumber(spec.clusterIP);
        const requested = spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP];
        if (n === undefined || n <= this.range.base || n >= this.range.base + this.range.size - 1)
          errs.push(
            invalidRaw(specPath.child('clusterIPs'), goSlice(requested), `failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${this.range.cidr}`),
          );
        else if (used.has(spec.clusterIP))
          errs.push(invalidRaw(specPath.child('clusterIPs'), goSlice(requested), `failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`));
        else ips.push(spec.clusterIP);
      }
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      const used = this.usedPorts(key);
      (spec.ports ?? []).forEach((p, i) => {
        const path = specPath.child('ports').index(i).child('nodePort');
        if (p.nodePort === undefined || p.nodePort === 0) {
          const port = this.pickPort(used);
          p.nodePort = port;
          used.add(port);
          ports.push(port);
        } else if (p.nodePort < NODE_PORT_RANGE.min || p.nodePort > NODE_PORT_RANGE.max) {
          errs.push(invalid(path, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`));
        } else if (used.has(p.nodePort) && !ports.includes(p.nodePort)) {
          errs.push(invalid(path, p.nodePort, 'provided port is already allocated'));
        } else {
          used.add(p.nodePort);
          ports.push(p.nodePort);
        }
      });
    }
    if (errs.length) throw invalidError('', 'Service', obj.metadata.name ?? '', errs);
    for (const ip of ips) this.reservedIPs.add(ip);
    for (const p of ports) this.reservedPorts.add(p);
    return () => {
      for (const ip of ips) this.reservedIPs.delete(ip);
      for (const p of ports) this.reservedPorts.delete(p);
    };
  }

  /** Dynamic addresses come from the upper part of the range; the lower band is left for requested ones. */
  private pickIP(used: Set<string>): string {
    const staticBand = this.range.size < 16 ? 0 : Math.min(Math.max(16, Math.floor(this.range.size / 16)), 256);
    const first = this.range.base + staticBand;
    const count = this.range.size - staticBand - 1;
    for (let attempt = 0; count > 0 && attempt < 64; attempt++) {
      const ip = toText(first + randomInt(count));
      if (!used.has(ip)) return ip;
    }
    for (let n = this.range.base + 2; n < this.range.base + this.range.size - 1; n++) if (!used.has(toText(n))) return toText(n);
    throw invalidError('', 'Service', '', [
      { type: 'InternalError', field: 'spec.clusterIPs', message: `Internal error: failed to allocate a serviceIP: range is full` },
    ]);
  }

  private pickPort(used: Set<number>): number {
    const span = NODE_PORT_RANGE.max - NODE_PORT_RANGE.min + 1;
    const start = randomInt(span);
    for (let i = 0; i < span; i++) {
      const port = NODE_PORT_RANGE.min + ((start + i) % span);
      if (!used.has(port)) return port;
    }
    throw invalidError('', 'Service', '', [
      { type: 'InternalError', field: 'spec.ports', message: 'Internal error: failed to allocate a nodePort: range is full' },
    ]);
  }
}

function invalidRaw(path: Path, shown: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: String(path), message: `Invalid value: ${shown}: ${detail}` };
}
