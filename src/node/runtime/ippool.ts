// Pod addresses from an IPv4 range, as CNI's host-local IPAM hands them out: the network and
// broadcast addresses and the gateway (the first host address) are never given; allocation
// goes round the range from the last address given, so a released address is not reused at once.

function parseIPv4(text: string): number {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${text}`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

const formatIPv4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

export class IPPool {
  private readonly network: number;
  private readonly size: number;
  private readonly byOwner = new Map<string, number>();
  private readonly owners = new Map<number, string>();
  /** Offset of the last address given. */
  private last = 1;

  constructor(readonly cidr: string) {
    const [addr, bits] = cidr.split('/');
    const prefix = Number(bits);
    if (!Number.isInteger(prefix) || prefix < 1 || prefix > 30) throw new Error(`unusable pod range: ${cidr}`);
    this.size = 2 ** (32 - prefix);
    this.network = (parseIPv4(addr) & ~(this.size - 1)) >>> 0;
  }

  /** The owner's address, allocating one if it has none. */
  allocate(owner: string): string {
    const held = this.byOwner.get(owner);
    if (held !== undefined) return formatIPv4(this.network + held);
    const first = 2;
    const count = this.size - 3;
    for (let i = 1; i <= count; i++) {
      const offset = first + ((this.last - first + i) % count);
      if (this.owners.has(offset)) continue;
      this.take(owner, offset);
      return formatIPv4(this.network + offset);
    }
    throw new Error(`no free addresses in ${this.cidr}`);
  }

  /** Records an address the owner already has (after a restart); false if it is outside the range or taken. */
  reserve(owner: string, ip: string): boolean {
    let offset: number;
    try {
      offset = (parseIPv4(ip) - this.network) >>> 0;
    } catch {
      return false;
    }
    if (offset < 2 || offset >= this.size - 1) return false;
    const holder = this.owners.get(offset);
    if (holder !== undefined) return holder === owner;
    this.release(owner);
    this.take(owner, offset);
    return true;
  }

  release(owner: string): void {
    const offset = this.byOwner.get(owner);
    if (offset === undefined) return;
    this.byOwner.delete(owner);
    this.owners.delete(offset);
  }

  get allocated(): number {
    return this.byOwner.size;
  }

  private take(owner: string, offset: number): void {
    this.byOwner.set(owner, offset);
    this.owners.set(offset, owner);
    this.last = offset;
  }
}
