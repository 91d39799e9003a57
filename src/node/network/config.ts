// The pod network's CNI configuration and the CNI protocol's messages, as pure functions: what
// each plugin reads on stdin, and what berth makes of what it prints.

export const CNI_VERSION = '1.0.0';

export interface NetworkSettings {
  /** The network's name; host-local keeps its reservations in `<ipamDataDir>/<name>`. */
  name: string;
  /** The Linux bridge the pods' veths join. */
  bridge: string;
  /** The node's pod range (Node.spec.podCIDR); the bridge holds its first address, the gateway. */
  podCIDR: string;
  ipamDataDir: string;
}

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

/** One plugin's entry of a network configuration list. */
export type PluginConf = { type: string; capabilities?: Record<string, boolean> } & Record<string, unknown>;

export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

/**
 * The pod network: a bridge whose address is the pods' gateway, addresses from host-local over
 * the node's pod range, and portmap for hostPorts. ipMasq is off on purpose: pods only talk to
 * each other and to this host, so their traffic is never source-NATed to the host's address and
 * cannot pass as the host's own on the uplink; the host routes the pod and service ranges
 * locally (routes.ts). hairpinMode lets a pod reach itself through a mapped port.
 */
export function networkConfigList(s: NetworkSettings): NetworkConfigList {
  return {
    cniVersion: CNI_VERSION,
    name: s.name,
    plugins: [
      {
        type: 'bridge',
        bridge: s.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: s.ipamDataDir,
          ranges: [[{ subnet: s.podCIDR }]],
          // No gw: host-local routes it through the range's gateway, which the bridge holds.
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/** The loopback plugin's own configuration: it brings up `lo` and is not part of the chain. */
export function loopbackConfig(): NetworkConfigList {
  return { cniVersion: CNI_VERSION, name: 'loopback', plugins: [{ type: 'loopback' }] };
}

export interface RuntimeArgs {
  portMappings: readonly PortMapping[];
}

/**
 * What the list's plugin at `index` reads on stdin (CNI spec, "Deriving execution
 * configuration"): its own entry plus the list's name and version, the previous result, and the
 * runtimeConfig of only the capabilities it declares.
 */
export function pluginStdin(list: NetworkConfigList, index: number, prevResult: unknown, args: RuntimeArgs): string {
  const { capabilities, ...plugin } = list.plugins[index];
  const runtimeConfig: Record<string, unknown> = {};
  if (capabilities?.portMappings) runtimeConfig.portMappings = args.portMappings;
  return JSON.stringify({
    ...plugin,
    cniVersion: list.cniVersion,
    name: list.name,
    ...(Object.keys(runtimeConfig).length > 0 && { runtimeConfig }),
    ...(prevResult !== undefined && { prevResult }),
  });
}

export interface PodAddress {
  /** The address alone, e.g. 10.244.0.5. */
  ip: string;
  prefixLength: number;
  gateway?: string;
  /** The interface it is on (inside the pod), when the plugin said. */
  interfaceName?: string;
}

export interface AttachResult {
  addresses: PodAddress[];
  /** The CNI result as the last plugin printed it: the prevResult of later CHECK and DEL. */
  raw: CniResult;
}

export interface CniResult {
  cniVersion?: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: unknown;
}

export function parseResult(stdout: string): AttachResult {
  const raw = JSON.parse(stdout) as CniResult;
  const addresses = (raw.ips ?? []).map((entry): PodAddress => {
    const [ip, bits] = entry.address.split('/');
    const iface = entry.interface === undefined ? undefined : raw.interfaces?.[entry.interface];
    return {
      ip,
      prefixLength: Number(bits),
      ...(entry.gateway !== undefined && { gateway: entry.gateway }),
      ...(iface?.sandbox && { interfaceName: iface.name }),
    };
  });
  return { addresses, raw };
}

/** A plugin's failure in its own words: the spec's error object on stdout, else its stderr. */
export function pluginErrorMessage(stdout: string, stderr: string): string {
  try {
    const e = JSON.parse(stdout) as { code?: number; msg?: string; details?: string };
    if (typeof e.msg === 'string') return [e.msg, e.details].filter(Boolean).join(': ') + (e.code ? ` (code ${e.code})` : '');
  } catch {
    // not the spec's error object
  }
  return (stderr || stdout).trim() || 'no message';
}
