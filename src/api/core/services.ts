// Service (core/v1): defaulting, the REST-layer normalisation of cluster IPs and IP
// families, validation and printing, as kube-apiserver does them. Cluster IPs and node
// ports are allocated elsewhere; this module only keeps what the client sent coherent.
import type {
  LoadBalancerIngress,
  Service as ServiceV1,
  ServicePort as ServicePortV1,
  ServiceSpec as ServiceSpecV1,
} from 'kubernetes-types/core/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import {
  type FieldError,
  Path,
  duplicate,
  forbidden,
  invalid,
  isDNS1123Subdomain,
  notSupported,
  required,
  validateLabels,
} from '../../machinery/validation.js';
import {
  PORT_PROTOCOLS,
  isIPv4Bytes,
  isValidPortName,
  isValidPortNum,
  parseIP,
  validateCIDR,
  validateDNS1123Label,
  validateIP,
  validateNonSpecialIP,
  validateQualifiedName,
} from './endpoints.js';
import { invalidRendered } from './podspec.js';

export type Service = Mutable<ServiceV1> & KubeObject;
type Spec = Mutable<ServiceSpecV1>;
type ServicePort = Mutable<ServicePortV1>;

const CLUSTER_IP_NONE = 'None';
/** berth's service range (10.96.0.0/12) is IPv4 only: the cluster's one service IP family. */
const CLUSTER_IP_FAMILY = 'IPv4';
const DEFAULT_CLIENT_IP_TIMEOUT = 10800;
const MAX_CLIENT_IP_TIMEOUT = 86400;
const TOPOLOGY_HINTS_ANNOTATION = 'service.kubernetes.io/topology-aware-hints';
const TOPOLOGY_MODE_ANNOTATION = 'service.kubernetes.io/topology-mode';
const SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const LOAD_BALANCER_IP_MODES = ['Proxy', 'VIP'];

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Service names are RFC 1035 labels (they become DNS names and environment variables). */
function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(value))
    errs.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  return errs;
}

// --- Go value printing (field errors show some values with %#v) ---------------

function goSlice(type: string, values: readonly string[] | undefined): string {
  if (values === undefined) return `[]${type}(nil)`;
  return `[]${type}{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

/** core.ServicePort as %#v prints the (protocol, port) key of a duplicate port. */
function goPortKey(protocol: string | undefined, port: number): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol ?? '')}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

// --- helpers shared by defaulting, normalisation and validation -----------------

function spec(svc: Service): Spec {
  return (svc.spec ??= {});
}

function isHeadless(s: Spec): boolean {
  return s.clusterIPs?.length === 1 && s.clusterIPs[0] === CLUSTER_IP_NONE;
}

function needsClusterIP(s: Spec): boolean {
  return s.type !== 'ExternalName';
}

function needsNodePort(s: Spec): boolean {
  return s.type === 'NodePort' || s.type === 'LoadBalancer';
}

function externallyAccessible(s: Spec): boolean {
  return needsNodePort(s) || (s.type === 'ClusterIP' && (s.externalIPs?.length ?? 0) > 0);
}

function needsHealthCheck(s: Spec): boolean {
  return s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
}

function familyOf(ip: string): string {
  const bytes = parseIP(ip);
  return bytes && !isIPv4Bytes(bytes) ? 'IPv6' : 'IPv4';
}

function sameStrings(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sameClusterIPs(a: Spec, b: Spec): boolean {
  return a.clusterIP === b.clusterIP && sameStrings(a.clusterIPs, b.clusterIPs);
}

// --- defaulting ---------------------------------------------------------------

function defaultService(svc: Service): void {
  const s = spec(svc);
  s.sessionAffinity ||= 'None';
  if (s.sessionAffinity === 'None') delete s.sessionAffinityConfig;
  if (s.sessionAffinity === 'ClientIP' && s.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined)
    s.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_TIMEOUT } };
  s.type ||= 'ClusterIP';
  for (const p of s.ports ?? []) {
    p.protocol ||= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(s)) s.externalTrafficPolicy ||= 'Cluster';
  if (s.internalTrafficPolicy === undefined && (s.type === 'ClusterIP' || needsNodePort(s)))
    s.internalTrafficPolicy = 'Cluster';
  if (s.type === 'LoadBalancer') {
    s.allocateLoadBalancerNodePorts ??= true;
    defaultIngressIPMode(svc);
  }
  defaultIPFamilies(s);
}

/** An ingress IP without ipMode is a VIP. The status may be shared with the stored object,
 *  so it is replaced rather than changed in place. */
function defaultIngressIPMode(svc: Service): void {
  const ingress = svc.status?.loadBalancer?.ingress;
  if (!ingress?.some((i) => i.ip && !i.ipMode)) return;
  const fixed = ingress.map((i): Mutable<LoadBalancerIngress> => (i.ip && !i.ipMode ? { ...i, ipMode: 'VIP' } : i));
  svc.status = { ...svc.status, loadBalancer: { ...svc.status!.loadBalancer, ingress: fixed } };
}

/**
 * The IP family fields as the service REST layer initialises them on a single-stack
 * IPv4 cluster: policy SingleStack (RequireDualStack for headless services without a
 * selector, which take both families), families inferred from the cluster IPs given.
 */
function defaultIPFamilies(s: Spec): void {
  if (s.type === 'ExternalName') return;
  const headlessNoSelector = s.clusterIP === CLUSTER_IP_NONE && Object.keys(s.selector ?? {}).length === 0;
  s.ipFamilyPolicy ??= headlessNoSelector ? 'RequireDualStack' : 'SingleStack';
  const ips = s.clusterIPs?.length ? s.clusterIPs : s.clusterIP ? [s.clusterIP] : [];
  const families = [...(s.ipFamilies ?? [])];
  ips.forEach((ip, i) => {
    if (ip !== CLUSTER_IP_NONE && i >= families.length && parseIP(ip)) families.push(familyOf(ip));
  });
  if (families.length === 0) families.push(CLUSTER_IP_FAMILY);
  // Headless services without a selector may be dual-stack even on a single-stack cluster.
  if (headlessNoSelector && families.length < 2 && s.ipFamilyPolicy !== 'SingleStack')
    families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
  s.ipFamilies = families;
}

// --- create/update normalisation (the service REST layer's begin hooks) ---------

/** Keeps clusterIP and clusterIPs in step for clients that only manage one of them. */
function normalizeClusterIPs(s: Spec, old?: Spec): void {
  if (!old) {
    if (s.clusterIP && !s.clusterIPs?.length) s.clusterIPs = [s.clusterIP];
    return;
  }
  // An old client patched the service without knowing clusterIPs.
  if (old.clusterIPs?.length && !s.clusterIPs?.length && old.clusterIP === s.clusterIP)
    s.clusterIPs = [...old.clusterIPs];
  if (old.clusterIP !== s.clusterIP) {
    if (old.clusterIP && !s.clusterIP && sameStrings(old.clusterIPs, s.clusterIPs)) delete s.clusterIPs;
    if (s.clusterIP && sameStrings(old.clusterIPs, s.clusterIPs)) s.clusterIPs = [s.clusterIP];
  }
}

/** Allocated values the client left out of an update are kept (update is idempotent). */
function patchAllocatedValues(s: Spec, old: Spec): void {
  if (needsClusterIP(old) && needsClusterIP(s)) {
    if (!s.clusterIP && old.clusterIP) s.clusterIP = old.clusterIP;
    if (!s.clusterIPs?.length && old.clusterIPs?.length) s.clusterIPs = [...old.clusterIPs];
  }
  if (needsNodePort(old) && needsNodePort(s)) {
    const nodePorts = (x: Spec) => new Set((x.ports ?? []).map((p) => p.nodePort ?? 0).filter((n) => n !== 0));
    const newPorts = nodePorts(s);
    const used = new Set([...nodePorts(old)].filter((n) => newPorts.has(n)));
    const byName = new Map((old.ports ?? []).map((p) => [p.name ?? '', p.nodePort ?? 0]));
    for (const p of s.ports ?? []) {
      if (p.nodePort) continue;
      const oldPort = byName.get(p.name ?? '') ?? 0;
      if (oldPort && !used.has(oldPort)) p.nodePort = oldPort;
    }
  }
  if (needsHealthCheck(old) && needsHealthCheck(s) && !s.healthCheckNodePort && old.healthCheckNodePort)
    s.healthCheckNodePort = old.healthCheckNodePort;
}

/** Fields that only mean something for the old type are wiped when the type changes,
 *  unless the client changed them too (then validation reports the conflict). */
function dropTypeDependentFields(svc: Service, old: Service): void {
  const s = spec(svc);
  const o = spec(old);
  if (needsClusterIP(o) && !needsClusterIP(s)) {
    if (sameClusterIPs(o, s)) {
      delete s.clusterIP;
      delete s.clusterIPs;
    }
    if (sameStrings(o.ipFamilies, s.ipFamilies)) delete s.ipFamilies;
    if (o.ipFamilyPolicy === s.ipFamilyPolicy) delete s.ipFamilyPolicy;
  }
  if (needsNodePort(o) && !needsNodePort(s)) {
    const oldPorts = new Set((o.ports ?? []).map((p) => p.nodePort ?? 0));
    if ((s.ports ?? []).every((p) => !p.nodePort || oldPorts.has(p.nodePort)))
      for (const p of s.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheck(o) && !needsHealthCheck(s) && o.healthCheckNodePort === s.healthCheckNodePort)
    delete s.healthCheckNodePort;
  if (o.type === 'LoadBalancer' && s.type !== 'LoadBalancer') {
    if (s.allocateLoadBalancerNodePorts !== undefined && s.allocateLoadBalancerNodePorts === o.allocateLoadBalancerNodePorts)
      delete s.allocateLoadBalancerNodePorts;
    if (o.loadBalancerClass === s.loadBalancerClass) delete s.loadBalancerClass;
  }
  if (externallyAccessible(o) && !externallyAccessible(s) && o.externalTrafficPolicy === s.externalTrafficPolicy)
    delete s.externalTrafficPolicy;
  // The load balancer status goes with the type (the stored status object is not touched).
  if (s.type !== 'LoadBalancer' && svc.status?.loadBalancer && Object.keys(svc.status.loadBalancer).length)
    svc.status = { ...svc.status, loadBalancer: {} };
}

// --- validation ---------------------------------------------------------------

function validatePortNumOrName(value: number | string | undefined, path: Path): FieldError[] {
  if (typeof value === 'string') return isValidPortName(value).map((m) => invalid(path, value, m));
  const n = value ?? 0;
  return isValidPortNum(n).map((m) => invalid(path, n, m));
}

function validateServicePort(p: ServicePort, requireName: boolean, names: Set<string>, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !p.name) errs.push(required(path.child('name')));
  else if (p.name) {
    errs.push(...validateDNS1123Label(p.name, path.child('name')));
    if (names.has(p.name)) errs.push(duplicate(path.child('name'), p.name));
    else names.add(p.name);
  }
  for (const m of isValidPortNum(p.port ?? 0)) errs.push(invalid(path.child('port'), p.port ?? 0, m));
  if (!p.protocol) errs.push(required(path.child('protocol')));
  else if (!PORT_PROTOCOLS.includes(p.protocol)) errs.push(notSupported(path.child('protocol'), p.protocol, PORT_PROTOCOLS));
  errs.push(...validatePortNumOrName(p.targetPort, path.child('targetPort')));
  if (p.appProtocol !== undefined) errs.push(...validateQualifiedName(p.appProtocol, path.child('appProtocol')));
  return errs;
}

function validateClientIPAffinity(s: Spec, path: Path): FieldError[] {
  const why = 'when session affinity type is ClientIP';
  const config = s.sessionAffinityConfig;
  if (!config) return [required(path, why)];
  if (!config.clientIP) return [required(path.child('clientIP'), why)];
  const timeout = config.clientIP.timeoutSeconds;
  const p = path.child('clientIP').child('timeoutSeconds');
  if (timeout === undefined) return [required(p, why)];
  if (timeout <= 0 || timeout > MAX_CLIENT_IP_TIMEOUT)
    return [invalid(p, timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_TIMEOUT}`)];
  return [];
}

/** ValidateServiceClusterIPsRelatedFields: clusterIP(s), ipFamilies and ipFamilyPolicy. */
function validateClusterIPsRelated(s: Spec): FieldError[] {
  if (s.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const specPath = Path.root('spec');
  const ipsPath = specPath.child('clusterIPs');
  const famPath = specPath.child('ipFamilies');
  const ips = s.clusterIPs;
  if (s.clusterIP) {
    if (!ips?.length) errs.push(required(ipsPath));
    else if (ips[0] !== s.clusterIP) errs.push(invalidRendered(ipsPath, goSlice('string', ips), 'first value must match `clusterIP`'));
  } else if (ips?.length) {
    errs.push(invalidRendered(ipsPath, goSlice('string', ips), 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  (s.ipFamilies ?? []).forEach((fam, i) => {
    if (!IP_FAMILIES.includes(fam)) errs.push(notSupported(famPath.index(i), fam, IP_FAMILIES));
    if (seen.has(fam)) errs.push(duplicate(famPath.index(i), fam));
    seen.add(fam);
  });
  if (s.ipFamilyPolicy !== undefined && !IP_FAMILY_POLICIES.includes(s.ipFamilyPolicy))
    errs.push(notSupported(specPath.child('ipFamilyPolicy'), s.ipFamilyPolicy, IP_FAMILY_POLICIES));
  let badIPs = false;
  (ips ?? []).forEach((ip, i) => {
    if (i === 0 && ip === CLUSTER_IP_NONE) {
      if (ips!.length > 1) {
        badIPs = true;
        errs.push(invalidRendered(ipsPath, goSlice('string', ips), "'None' must be the first and only value"));
      }
      return;
    }
    const ipErrs = validateIP(ipsPath.index(i), ip);
    if (ipErrs.length) badIPs = true;
    errs.push(...ipErrs);
  });
  if ((ips?.length ?? 0) > 2) errs.push(invalidRendered(ipsPath, goSlice('string', ips), 'may only hold up to 2 values'));
  // Bad addresses would make the family checks below misleading.
  if (badIPs) return errs;
  if (ips && ips.length > 1) {
    const fams = ips.map(familyOf);
    if (!fams.includes('IPv4') || !fams.includes('IPv6'))
      errs.push(invalidRendered(ipsPath, goSlice('string', ips), 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadless(s) && ips?.length && s.ipFamilies?.length) {
    ips.forEach((ip, i) => {
      const fam = s.ipFamilies![i];
      if (fam === undefined) return;
      const v6 = familyOf(ip) === 'IPv6';
      if (fam === 'IPv4' && v6)
        errs.push(invalid(ipsPath.index(i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (fam === 'IPv6' && !v6)
        errs.push(invalid(ipsPath.index(i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

function validateLoadBalancerClass(s: Spec): FieldError[] {
  const errs: FieldError[] = [];
  const path = Path.root('spec').child('loadBalancerClass');
  if (s.type === 'LoadBalancer') {
    if (s.loadBalancerClass !== undefined) errs.push(...validateQualifiedName(s.loadBalancerClass, path));
  } else if (s.loadBalancerClass !== undefined) {
    errs.push(forbidden(path, "may only be used when `type` is 'LoadBalancer'"));
  }
  return errs;
}

function validateTrafficPolicies(s: Spec): FieldError[] {
  const errs: FieldError[] = [];
  const specPath = Path.root('spec');
  const etp = specPath.child('externalTrafficPolicy');
  if (!externallyAccessible(s)) {
    if (s.externalTrafficPolicy) errs.push(invalid(etp, s.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!s.externalTrafficPolicy) {
    errs.push(required(etp));
  } else if (!TRAFFIC_POLICIES.includes(s.externalTrafficPolicy)) {
    errs.push(notSupported(etp, s.externalTrafficPolicy, TRAFFIC_POLICIES));
  }
  const hc = specPath.child('healthCheckNodePort');
  if (!needsHealthCheck(s)) {
    if (s.healthCheckNodePort)
      errs.push(
        invalid(hc, s.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
      );
  } else if (!s.healthCheckNodePort) {
    errs.push(required(hc));
  } else {
    for (const m of isValidPortNum(s.healthCheckNodePort)) errs.push(invalid(hc, s.healthCheckNodePort, m));
  }
  const itp = specPath.child('internalTrafficPolicy');
  if (s.internalTrafficPolicy === undefined) {
    // Other types are not checked: services stored before the field existed must stay valid.
    if (s.type === 'ClusterIP' || needsNodePort(s)) errs.push(required(itp));
  } else if (!TRAFFIC_POLICIES.includes(s.internalTrafficPolicy)) {
    errs.push(notSupported(itp, s.internalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (s.trafficDistribution !== undefined && s.trafficDistribution !== 'PreferClose')
    errs.push(notSupported(specPath.child('trafficDistribution'), s.trafficDistribution, ['PreferClose']));
  return errs;
}

function validateService(svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  const s = svc.spec ?? {};
  const annotations = svc.metadata.annotations ?? {};
  const hints = annotations[TOPOLOGY_HINTS_ANNOTATION];
  const mode = annotations[TOPOLOGY_MODE_ANNOTATION];
  if (hints !== undefined && mode !== undefined && hints !== mode)
    errs.push(
      invalid(
        Path.root('metadata').child('annotations').key(TOPOLOGY_MODE_ANNOTATION),
        mode,
        `must match annotations[${TOPOLOGY_HINTS_ANNOTATION}] when both are specified`,
      ),
    );

  const specPath = Path.root('spec');
  const portsPath = specPath.child('ports');
  const ports = s.ports ?? [];
  if (ports.length === 0 && !isHeadless(s) && s.type !== 'ExternalName') errs.push(required(portsPath));
  if ((s.type === 'LoadBalancer' || s.type === 'NodePort') && isHeadless(s))
    errs.push(invalid(specPath.child('clusterIPs').index(0), CLUSTER_IP_NONE, `may not be set to 'None' for ${s.type} services`));
  if (s.type === 'ExternalName') {
    if (s.clusterIPs?.length) errs.push(forbidden(specPath.child('clusterIPs'), 'may not be set for ExternalName services'));
    if (s.ipFamilies?.length) errs.push(forbidden(specPath.child('ipFamilies'), 'may not be set for ExternalName services'));
    if (s.ipFamilyPolicy !== undefined)
      errs.push(forbidden(specPath.child('ipFamilyPolicy'), 'may not be set for ExternalName services'));
    // A CNAME may end in a dot to mark it fully qualified.
    const cname = (s.externalName ?? '').replace(/\.$/, '');
    if (cname) errs.push(...isDNS1123Subdomain(cname).map((m) => invalid(specPath.child('externalName'), cname, m)));
    else errs.push(required(specPath.child('externalName')));
  }

  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, portsPath.index(i))));

  if (s.selector) errs.push(...validateLabels(s.selector, specPath.child('selector')));

  const affinity = specPath.child('sessionAffinity');
  if (!s.sessionAffinity) errs.push(required(affinity));
  else if (!SESSION_AFFINITIES.includes(s.sessionAffinity))
    errs.push(notSupported(affinity, s.sessionAffinity, SESSION_AFFINITIES));
  if (s.sessionAffinity === 'ClientIP') errs.push(...validateClientIPAffinity(s, specPath.child('sessionAffinityConfig')));
  else if (s.sessionAffinity === 'None' && s.sessionAffinityConfig)
    errs.push(forbidden(specPath.child('sessionAffinityConfig'), 'must not be set when session affinity is None'));

  errs.push(...validateClusterIPsRelated(s));

  (s.externalIPs ?? []).forEach((ip, i) => {
    const p = specPath.child('externalIPs').index(i);
    const ipErrs = validateIP(p, ip);
    errs.push(...(ipErrs.length ? ipErrs : validateNonSpecialIP(ip, p)));
  });

  if (!s.type) errs.push(required(specPath.child('type')));
  else if (!SERVICE_TYPES.includes(s.type)) errs.push(notSupported(specPath.child('type'), s.type, SERVICE_TYPES));

  if (s.type === 'ClusterIP')
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(forbidden(portsPath.index(i).child('nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });

  // Node ports and ports must be unique per protocol.
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(duplicate(portsPath.index(i).child('nodePort'), p.nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (portKeys.has(key))
      errs.push({
        type: 'FieldValueDuplicate',
        field: String(portsPath.index(i)),
        message: `Duplicate value: ${goPortKey(p.protocol, p.port ?? 0)}`,
      });
    portKeys.add(key);
  });

  if (s.loadBalancerSourceRanges?.length) {
    // Kubernetes spells this path with a capital L.
    const p = specPath.child('LoadBalancerSourceRanges');
    if (s.type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    s.loadBalancerSourceRanges.forEach((v, i) => errs.push(...validateCIDR(p.index(i), v.trim())));
  } else if (annotations[SOURCE_RANGES_ANNOTATION] !== undefined) {
    const p = Path.root('metadata').child('annotations').key(SOURCE_RANGES_ANNOTATION);
    if (s.type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    const val = annotations[SOURCE_RANGES_ANNOTATION].trim();
    if (val) for (const v of val.split(',')) errs.push(...validateCIDR(p, v.trim()));
  }

  if (s.allocateLoadBalancerNodePorts !== undefined && s.type !== 'LoadBalancer')
    errs.push(forbidden(specPath.child('allocateLoadBalancerNodePorts'), "may only be used when `type` is 'LoadBalancer'"));
  // Kubernetes reports this one without the spec prefix.
  if (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts === undefined)
    errs.push(required(Path.root('allocateLoadBalancerNodePorts')));

  errs.push(...validateLoadBalancerClass(s));
  errs.push(...validateTrafficPolicies(s));
  return errs;
}

/** Primary cluster IP and IP family may not change, except to, from or on ExternalName. */
function validateUpgradeDowngrade(s: Spec, o: Spec): FieldError[] {
  const errs: FieldError[] = [];
  if (s.type === 'ExternalName' || o.type === 'ExternalName') return errs;
  const specPath = Path.root('spec');
  const ipsPath = specPath.child('clusterIPs');
  const famPath = specPath.child('ipFamilies');
  const policyPath = specPath.child('ipFamilyPolicy');
  const newIPs = s.clusterIPs ?? [];
  const oldIPs = o.clusterIPs ?? [];
  const shownIPs = goSlice('string', s.clusterIPs);
  if (!(isHeadless(s) && isHeadless(o))) {
    if (oldIPs.length === newIPs.length) {
      oldIPs.forEach((ip, i) => {
        if (ip !== newIPs[i]) errs.push(invalidRendered(ipsPath.index(i), shownIPs, 'may not change once set'));
      });
    } else if (oldIPs.length > newIPs.length) {
      if (newIPs.length === 0) errs.push(invalidRendered(ipsPath.index(0), shownIPs, 'primary clusterIP can not be unset'));
      if (oldIPs.length && newIPs.length && newIPs[0] !== oldIPs[0])
        errs.push(invalidRendered(ipsPath.index(0), shownIPs, 'may not change once set'));
      if (newIPs.length === 1 && s.ipFamilyPolicy !== 'SingleStack')
        errs.push(invalid(policyPath, s.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    } else if (oldIPs.length && newIPs[0] !== oldIPs[0]) {
      errs.push(invalidRendered(ipsPath.index(0), shownIPs, 'may not change once set'));
    }
  }
  // Families of headless services may change freely.
  if (isHeadless(s) || isHeadless(o)) return errs;
  const newFams = s.ipFamilies ?? [];
  const oldFams = o.ipFamilies ?? [];
  const shownFams = goSlice('core.IPFamily', s.ipFamilies);
  if (oldFams.length === newFams.length) {
    oldFams.forEach((f, i) => {
      if (f !== newFams[i]) errs.push(invalidRendered(famPath.index(0), shownFams, 'may not change once set'));
    });
  } else if (oldFams.length > newFams.length) {
    if (newIPs.length === 0) errs.push(invalidRendered(famPath.index(0), shownFams, 'primary ipFamily can not be unset'));
    if (newFams.length && newFams[0] !== oldFams[0]) errs.push(invalidRendered(famPath.index(0), shownIPs, 'may not change once set'));
    if (newFams.length === 1 && s.ipFamilyPolicy !== 'SingleStack')
      errs.push(invalid(policyPath, s.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
  } else if (oldFams.length && newFams.length && newFams[0] !== oldFams[0]) {
    errs.push(invalidRendered(famPath.index(0), shownIPs, 'may not change once set'));
  }
  return errs;
}

function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const s = svc.spec ?? {};
  const o = old.spec ?? {};
  const errs = validateUpgradeDowngrade(s, o);
  if (o.type === 'LoadBalancer' && s.type === 'LoadBalancer' && o.loadBalancerClass !== s.loadBalancerClass)
    errs.push(invalid(Path.root('spec').child('loadBalancerClass'), s.loadBalancerClass ?? null, 'may not change once set'));
  if (needsHealthCheck(o) && needsHealthCheck(s) && s.healthCheckNodePort !== o.healthCheckNodePort)
    errs.push(forbidden(Path.root('spec').child('healthCheckNodePort'), 'field is immutable'));
  errs.push(...validateService(svc));
  return errs;
}

function validateStatusUpdate(svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  const ingressPath = Path.root('status').child('loadBalancer').child('ingress');
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (svc.spec?.type !== 'LoadBalancer' && ingress.length)
    return [forbidden(ingressPath, "may only be used when `spec.type` is 'LoadBalancer'")];
  ingress.forEach((ing, i) => {
    const p = ingressPath.index(i);
    if (ing.ip) errs.push(...validateIP(p.child('ip'), ing.ip));
    if (ing.ipMode === undefined) {
      if (ing.ip) errs.push(required(p.child('ipMode'), 'must be specified when `ip` is set'));
    } else if (!ing.ip) {
      errs.push(forbidden(p.child('ipMode'), 'may not be specified when `ip` is not set'));
    } else if (!LOAD_BALANCER_IP_MODES.includes(ing.ipMode)) {
      errs.push(notSupported(p.child('ipMode'), ing.ipMode, LOAD_BALANCER_IP_MODES));
    }
    if (ing.hostname) {
      for (const m of isDNS1123Subdomain(ing.hostname)) errs.push(invalid(p.child('hostname'), ing.hostname, m));
      if (parseIP(ing.hostname)) errs.push(invalid(p.child('hostname'), ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

// --- printing -----------------------------------------------------------------

function externalIPCell(svc: Service): string {
  const s = svc.spec ?? {};
  const external = s.externalIPs ?? [];
  switch (s.type) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = [
        ...new Set((svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean)),
      ].sort();
      if (external.length) return [...lb, ...external].join(',');
      return lb.length ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return s.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function portsCell(ports: ServicePort[] | undefined): string {
  const text = (ports ?? [])
    .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? ''}` : `${p.port}/${p.protocol ?? ''}`))
    .join(',');
  return text || '<none>';
}

/** labels.FormatLabels: `k=v` pairs sorted by key, `<none>` when empty. */
function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : '<none>';
}

export const kind: KindDef<Service> = {
  group: '',
  version: 'v1',
  kind: 'Service',
  resource: 'services',
  singular: 'service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  statusSubresource: true,
  nameValidation: isDNS1035Label,

  defaults: defaultService,

  prepareForCreate(svc) {
    svc.status = { loadBalancer: {} };
    normalizeClusterIPs(spec(svc));
  },

  prepareForUpdate(svc, old) {
    patchAllocatedValues(spec(svc), old.spec ?? {});
    normalizeClusterIPs(spec(svc), old.spec ?? {});
    dropTypeDependentFields(svc, old);
  },

  validate: validateService,
  validateUpdate: validateServiceUpdate,
  validateStatusUpdate,

  fieldSelectors: {
    'spec.clusterIP': (svc) => svc.spec?.clusterIP ?? '',
    'spec.type': (svc) => svc.spec?.type ?? '',
  },

  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
      { name: 'Type', type: 'string', description: 'How the service is exposed.', priority: 0 },
      { name: 'Cluster-IP', type: 'string', description: 'The virtual IP of the service inside the cluster.', priority: 0 },
      { name: 'External-IP', type: 'string', description: 'Addresses the service is reachable at from outside.', priority: 0 },
      { name: 'Port(s)', type: 'string', description: 'The ports the service exposes.', priority: 0 },
      { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 },
      { name: 'Selector', type: 'string', description: 'The labels of the pods behind the service.', priority: 1 },
    ],
    row: (svc, now) => [
      svc.metadata.name,
      svc.spec?.type ?? '',
      svc.spec?.clusterIPs?.[0] ?? '<none>',
      externalIPCell(svc),
      portsCell(svc.spec?.ports),
      age(svc.metadata.creationTimestamp, now),
      formatLabels(svc.spec?.selector),
    ],
  },
};
