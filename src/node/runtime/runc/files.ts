// The files the kubelet and the CRI runtime write for a pod and bind into each of its containers:
// /etc/hosts (kubelet's managedHostsFileContent), /etc/resolv.conf (kubelet's dns.Configurer,
// rendered as containerd writes it) and /etc/hostname. Host-network pods, which get the node's
// files, are not handled here.
import type { Pod } from '../../../api/core/pods.js';
import type { RuntimeEvent } from '../types.js';

const HOSTNAME_MAX = 63;
const FQDN_MAX = 64;
const MAX_NAMESERVERS = 3;
const MAX_SEARCH_PATHS = 32;
const MAX_SEARCH_CHARS = 2048;

/** A reason to fail the sandbox (the kubelet reports it on the pod). */
export class PodFilesError extends Error {}

export interface PodNames {
  /** The short host name: spec.hostname or the pod's name, cut to 63 characters. */
  hostname: string;
  /** `<subdomain>.<namespace>.svc.<clusterDomain>` when spec.subdomain is set, else ''. */
  domain: string;
  /** The UTS host name: the FQDN when setHostnameAsFQDN and a domain, else `hostname`. */
  utsHostname: string;
}

/** GeneratePodHostNameAndDomain, and the FQDN host name of setHostnameAsFQDN. */
export function podNames(pod: Pod, clusterDomain: string): PodNames {
  let hostname = pod.spec?.hostname || pod.metadata.name || '';
  if (hostname.length > HOSTNAME_MAX) {
    hostname = hostname.slice(0, HOSTNAME_MAX).replace(/[-.]+$/, '');
    if (!hostname) throw new PodFilesError(`hostname for pod "${pod.metadata.name}" was invalid: "${hostname}"`);
  }
  const sub = pod.spec?.subdomain;
  const domain = sub ? `${sub}.${pod.metadata.namespace}.svc.${clusterDomain}` : '';
  let utsHostname = hostname;
  if (pod.spec?.setHostnameAsFQDN && domain) {
    utsHostname = `${hostname}.${domain}`;
    if (utsHostname.length > FQDN_MAX) {
      throw new PodFilesError(
        `failed to construct FQDN from pod hostname and cluster domain, FQDN ${utsHostname} is too long (${FQDN_MAX} characters is the max, ${utsHostname.length} characters requested)`,
      );
    }
  }
  return { hostname, domain, utsHostname };
}

/** The pod's /etc/hosts: localhost lines, each pod IP with its FQDN (if any) then its host name, then hostAliases. */
export function hostsFile(pod: Pod, podIPs: readonly string[], names: PodNames): string {
  let out = '# Kubernetes-managed hosts file.\n';
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) {
    out += names.domain ? `${ip}\t${names.hostname}.${names.domain}\t${names.hostname}\n` : `${ip}\t${names.hostname}\n`;
  }
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    out += '\n# Entries added by HostAliases.\n';
    for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  }
  return out;
}

/** /etc/hostname, as containerd writes it. */
export function hostnameFile(names: PodNames): string {
  return `${names.utsHostname}\n`;
}

export interface DNSConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

/** parseResolvConf: nameservers, the last search line (without trailing dots), merged options. */
export function parseResolvConf(text: string): DNSConfig {
  const conf: DNSConfig = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') continue;
    const fields = line.split(/\s+/);
    if (fields[0] === 'nameserver' && fields.length > 1) conf.servers.push(fields[1]);
    else if (fields[0] === 'search') conf.searches = fields.slice(1).filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
    else if (fields[0] === 'options') conf.options = mergeOptions(conf.options, fields.slice(1));
  }
  return conf;
}

const unique = (xs: readonly string[]) => [...new Set(xs)];

/** Options by name, a later one replacing an earlier in place (the kubelet merges through a map). */
function mergeOptions(existing: readonly string[], more: readonly string[]): string[] {
  const byName = new Map<string, string>();
  for (const o of [...existing, ...more]) byName.set(o.split(':', 1)[0], o);
  return [...byName.values()];
}

export interface ResolvInput {
  pod: Pod;
  /** The kubelet's --cluster-dns addresses; empty makes ClusterFirst fall back to Default. */
  clusterDNS: readonly string[];
  clusterDomain: string;
  /** The host's resolv.conf (kubelet --resolv-conf); undefined as when that flag is empty. */
  hostResolvConf?: string;
}

export interface ResolvResult {
  config: DNSConfig;
  content: string;
  events: RuntimeEvent[];
}

const warning = (reason: string, message: string): RuntimeEvent => ({ type: 'Warning', reason, message });

/** The pod's DNS configuration per dnsPolicy and dnsConfig (kubelet's GetPodDNS), rendered. */
export function resolvConf(input: ResolvInput): ResolvResult {
  const { pod, clusterDomain } = input;
  const events: RuntimeEvent[] = [];
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  let type: 'cluster' | 'host' | 'none';
  if (policy === 'None') type = 'none';
  else if (policy === 'ClusterFirstWithHostNet') type = 'cluster';
  else if (policy === 'ClusterFirst' && !pod.spec?.hostNetwork) type = 'cluster';
  else type = 'host';

  const host = input.hostResolvConf === undefined ? { servers: [], searches: [], options: [] } : parseResolvConf(input.hostResolvConf);
  let config: DNSConfig = type === 'none' ? { servers: [], searches: [], options: [] } : host;
  if (type === 'cluster' && !input.clusterDNS.length) {
    events.push(
      warning('MissingClusterDNS', `pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`),
    );
    type = 'host';
  }
  if (type === 'cluster') {
    const searches = clusterDomain
      ? unique([`${pod.metadata.namespace}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain, ...host.searches])
      : host.searches;
    config = { servers: [...input.clusterDNS], searches, options: ['ndots:5'] };
  } else if (type === 'host' && input.hostResolvConf === undefined) {
    // No host resolver configured: the kubelet points the pod at loopback and disables search.
    config = { servers: ['127.0.0.1'], searches: ['.'], options: [] };
  }

  const dc = pod.spec?.dnsConfig;
  if (dc) {
    config = {
      servers: unique([...config.servers, ...(dc.nameservers ?? [])]),
      searches: unique([...config.searches, ...(dc.searches ?? [])]),
      options: mergeOptions(
        config.options,
        (dc.options ?? []).map((o) => (o.value ? `${o.name}:${o.value}` : (o.name ?? ''))),
      ),
    };
  }

  // formDNSConfigFitsLimits.
  if (config.servers.length > MAX_NAMESERVERS) {
    config.servers = config.servers.slice(0, MAX_NAMESERVERS);
    events.push(warning('DNSConfigForming', `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${config.servers.join(' ')}`));
  }
  let searches = config.searches;
  let trimmed = false;
  if (searches.length > MAX_SEARCH_PATHS) {
    searches = searches.slice(0, MAX_SEARCH_PATHS);
    trimmed = true;
  }
  while (searches.length && searches.join(' ').length > MAX_SEARCH_CHARS) {
    searches = searches.slice(0, -1);
    trimmed = true;
  }
  if (trimmed) {
    config.searches = searches;
    events.push(warning('DNSConfigForming', `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`));
  }
  return { config, content: renderResolvConf(config), events };
}

/** containerd's rendering: search, then nameservers, then options. */
export function renderResolvConf(c: DNSConfig): string {
  let out = '';
  if (c.searches.length) out += `search ${c.searches.join(' ')}\n`;
  for (const s of c.servers) out += `nameserver ${s}\n`;
  if (c.options.length) out += `options ${c.options.join(' ')}\n`;
  return out;
}
