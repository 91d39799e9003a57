// Kubernetes' merge metadata for the served types: the `patchStrategy` /
// `patchMergeKey` struct tags and the `+listType`, `+listMapKey`, `+mapType`
// and `+structType` markers of the Go API types, keyed by OpenAPI definition
// name and JSON field name. scripts/gen-schemas.ts turns these into the
// x-kubernetes-* extensions of generated/schemas.json, which the strategic
// merge patch and the OpenAPI documents read; so every entry must be exactly
// what Kubernetes declares.

export type PatchStrategy = 'merge' | 'retainKeys' | 'merge,retainKeys' | 'replace';

export interface FieldMeta {
  /** x-kubernetes-patch-strategy */
  strategy?: PatchStrategy;
  /** x-kubernetes-patch-merge-key */
  mergeKey?: string;
  /** x-kubernetes-list-type */
  listType?: 'atomic' | 'set' | 'map';
  /** x-kubernetes-list-map-keys */
  listMapKeys?: string[];
  /** x-kubernetes-map-type, on a map or struct field */
  mapType?: 'atomic' | 'granular';
}

export interface TypeMeta {
  /** x-kubernetes-map-type on the definition (`+structType`). */
  mapType?: 'atomic' | 'granular';
  /** x-kubernetes-unions (`+union` with its discriminator). */
  unions?: Array<{ discriminator: string; 'fields-to-discriminateBy': Record<string, string> }>;
}

const atomic: FieldMeta = { listType: 'atomic' };
const atomicMap: FieldMeta = { mapType: 'atomic' };
const granularMap: FieldMeta = { mapType: 'granular' };
/** A list merged by key in both strategic merge patch and server-side apply. */
const mergeBy = (key: string, ...mapKeys: string[]): FieldMeta => ({
  strategy: 'merge',
  mergeKey: key,
  listType: 'map',
  listMapKeys: mapKeys.length > 0 ? mapKeys : [key],
});
const mergeRetainBy = (key: string): FieldMeta => ({ ...mergeBy(key), strategy: 'merge,retainKeys' });

const core = (type: string): string => `io.k8s.api.core.v1.${type}`;
const meta = (type: string): string => `io.k8s.apimachinery.pkg.apis.meta.v1.${type}`;
const apps = (type: string): string => `io.k8s.api.apps.v1.${type}`;
const discovery = (type: string): string => `io.k8s.api.discovery.v1.${type}`;
const storage = (type: string): string => `io.k8s.api.storage.v1.${type}`;

// Fields shared by Container and EphemeralContainer (EphemeralContainerCommon).
const containerFields: Record<string, FieldMeta> = {
  command: atomic,
  args: atomic,
  ports: mergeBy('containerPort', 'containerPort', 'protocol'),
  envFrom: atomic,
  env: mergeBy('name'),
  resizePolicy: atomic,
  restartPolicyRules: atomic,
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
};

/** Field-level metadata: definition name → JSON field name → metadata. */
export const FIELD_META: Record<string, Record<string, FieldMeta>> = {
  // core/v1: volumes
  [core('PersistentVolumeSpec')]: { accessModes: atomic, claimRef: granularMap, mountOptions: atomic },
  [core('PersistentVolumeClaimSpec')]: { accessModes: atomic },
  [core('PersistentVolumeClaimStatus')]: { accessModes: atomic, conditions: mergeBy('type'), allocatedResourceStatuses: granularMap },
  [core('RBDVolumeSource')]: { monitors: atomic },
  [core('RBDPersistentVolumeSource')]: { monitors: atomic },
  [core('CephFSVolumeSource')]: { monitors: atomic },
  [core('CephFSPersistentVolumeSource')]: { monitors: atomic },
  [core('ISCSIVolumeSource')]: { portals: atomic },
  [core('ISCSIPersistentVolumeSource')]: { portals: atomic },
  [core('FCVolumeSource')]: { targetWWNs: atomic, wwids: atomic },
  [core('SecretVolumeSource')]: { items: atomic },
  [core('SecretProjection')]: { items: atomic },
  [core('ConfigMapVolumeSource')]: { items: atomic },
  [core('ConfigMapProjection')]: { items: atomic },
  [core('DownwardAPIVolumeSource')]: { items: atomic },
  [core('DownwardAPIProjection')]: { items: atomic },
  [core('ProjectedVolumeSource')]: { sources: atomic },

  // core/v1: pods and containers
  [core('PodSpec')]: {
    volumes: mergeRetainBy('name'),
    initContainers: mergeBy('name'),
    containers: mergeBy('name'),
    ephemeralContainers: mergeBy('name'),
    nodeSelector: atomicMap,
    imagePullSecrets: mergeBy('name'),
    tolerations: atomic,
    hostAliases: mergeBy('ip'),
    readinessGates: atomic,
    topologySpreadConstraints: mergeBy('topologyKey', 'topologyKey', 'whenUnsatisfiable'),
    schedulingGates: mergeBy('name'),
    resourceClaims: mergeRetainBy('name'),
  },
  [core('PodStatus')]: {
    conditions: mergeBy('type'),
    hostIPs: { strategy: 'merge', mergeKey: 'ip', listType: 'atomic' },
    podIPs: mergeBy('ip'),
    initContainerStatuses: atomic,
    containerStatuses: atomic,
    ephemeralContainerStatuses: atomic,
    resourceClaimStatuses: mergeRetainBy('name'),
    nodeAllocatableResourceClaimStatuses: atomic,
  },
  [core('ContainerStatus')]: { volumeMounts: atomic, allocatedResourcesStatus: mergeBy('name') },
  [core('ResourceStatus')]: { resources: { listType: 'map', listMapKeys: ['resourceID'] } },
  [core('LinuxContainerUser')]: { supplementalGroups: atomic },
  [core('PodExtendedResourceClaimStatus')]: { requestMappings: atomic },
  [core('NodeAllocatableResourceClaimStatus')]: { containers: { listType: 'set' } },
  [core('ContainerRestartRuleOnExitCodes')]: { values: { listType: 'set' } },
  [core('Container')]: containerFields,
  [core('EphemeralContainer')]: containerFields,
  [core('ResourceRequirements')]: { claims: { listType: 'map', listMapKeys: ['name'] } },
  [core('ExecAction')]: { command: atomic },
  [core('HTTPGetAction')]: { httpHeaders: atomic },
  [core('Capabilities')]: { add: atomic, drop: atomic },
  [core('PodSecurityContext')]: { supplementalGroups: atomic, sysctls: atomic },
  [core('PodDNSConfig')]: { nameservers: atomic, searches: atomic, options: atomic },
  [core('HostAlias')]: { hostnames: atomic },
  [core('TopologySpreadConstraint')]: { matchLabelKeys: atomic },
  [core('NodeSelector')]: { nodeSelectorTerms: atomic },
  [core('NodeSelectorTerm')]: { matchExpressions: atomic, matchFields: atomic },
  [core('NodeSelectorRequirement')]: { values: atomic },
  [core('TopologySelectorTerm')]: { matchLabelExpressions: atomic },
  [core('TopologySelectorLabelRequirement')]: { values: atomic },
  [core('NodeAffinity')]: { preferredDuringSchedulingIgnoredDuringExecution: atomic },
  [core('PodAffinity')]: {
    requiredDuringSchedulingIgnoredDuringExecution: atomic,
    preferredDuringSchedulingIgnoredDuringExecution: atomic,
  },
  [core('PodAntiAffinity')]: {
    requiredDuringSchedulingIgnoredDuringExecution: atomic,
    preferredDuringSchedulingIgnoredDuringExecution: atomic,
  },
  [core('PodAffinityTerm')]: { namespaces: atomic, matchLabelKeys: atomic, mismatchLabelKeys: atomic },

  // core/v1: services, endpoints, nodes, namespaces
  [core('ServiceSpec')]: {
    ports: mergeBy('port', 'port', 'protocol'),
    selector: atomicMap,
    clusterIPs: atomic,
    externalIPs: atomic,
    loadBalancerSourceRanges: atomic,
    ipFamilies: atomic,
  },
  [core('ServiceStatus')]: { conditions: mergeBy('type') },
  [core('LoadBalancerStatus')]: { ingress: atomic },
  [core('LoadBalancerIngress')]: { ports: atomic },
  [core('Endpoints')]: { subsets: atomic },
  [core('EndpointSubset')]: { addresses: atomic, notReadyAddresses: atomic, ports: atomic },
  [core('NodeSpec')]: { podCIDRs: { strategy: 'merge', listType: 'set' }, taints: atomic },
  [core('NodeStatus')]: {
    conditions: mergeBy('type'),
    addresses: mergeBy('type'),
    images: atomic,
    volumesInUse: atomic,
    volumesAttached: atomic,
    runtimeHandlers: atomic,
    declaredFeatures: atomic,
  },
  [core('ContainerImage')]: { names: atomic },
  [core('NamespaceSpec')]: { finalizers: atomic },
  [core('NamespaceStatus')]: { conditions: mergeBy('type') },

  // apps/v1
  [apps('StatefulSetSpec')]: { volumeClaimTemplates: atomic },
  [apps('StatefulSetStatus')]: { conditions: mergeBy('type') },

  // discovery.k8s.io/v1
  [discovery('EndpointSlice')]: { endpoints: atomic, ports: atomic },
  [discovery('Endpoint')]: { addresses: { listType: 'set' } },
  [discovery('EndpointHints')]: { forZones: atomic, forNodes: atomic },

  // storage.k8s.io/v1
  [storage('StorageClass')]: { mountOptions: atomic, allowedTopologies: atomic },

  // meta/v1
  [meta('ObjectMeta')]: {
    ownerReferences: mergeBy('uid'),
    finalizers: { strategy: 'merge', listType: 'set' },
    managedFields: atomic,
  },
  [meta('LabelSelector')]: { matchExpressions: atomic },
  [meta('LabelSelectorRequirement')]: { values: atomic },
  [meta('DeleteOptions')]: { dryRun: atomic },
  [meta('StatusDetails')]: { causes: atomic },
  [meta('APIVersions')]: { versions: atomic, serverAddressByClientCIDRs: atomic },
  [meta('APIGroupList')]: { groups: atomic },
  [meta('APIGroup')]: { versions: atomic, serverAddressByClientCIDRs: atomic },
  [meta('APIResource')]: { shortNames: atomic, categories: atomic },
  [meta('APIResourceList')]: { resources: atomic },
};

/** Definition-level metadata. */
export const TYPE_META: Record<string, TypeMeta> = {
  [core('SecretReference')]: { mapType: 'atomic' },
  [core('ObjectFieldSelector')]: { mapType: 'atomic' },
  [core('ResourceFieldSelector')]: { mapType: 'atomic' },
  [core('ConfigMapKeySelector')]: { mapType: 'atomic' },
  [core('SecretKeySelector')]: { mapType: 'atomic' },
  [core('NodeSelector')]: { mapType: 'atomic' },
  [core('NodeSelectorTerm')]: { mapType: 'atomic' },
  [core('TopologySelectorTerm')]: { mapType: 'atomic' },
  [core('EndpointAddress')]: { mapType: 'atomic' },
  [core('EndpointPort')]: { mapType: 'atomic' },
  [core('ObjectReference')]: { mapType: 'atomic' },
  [core('LocalObjectReference')]: { mapType: 'atomic' },
  [core('TypedLocalObjectReference')]: { mapType: 'atomic' },
  [core('FileKeySelector')]: { mapType: 'atomic' },
  [discovery('EndpointPort')]: { mapType: 'atomic' },
  [meta('OwnerReference')]: { mapType: 'atomic' },
  [meta('LabelSelector')]: { mapType: 'atomic' },
  [core('AppArmorProfile')]: {
    unions: [{ discriminator: 'type', 'fields-to-discriminateBy': { localhostProfile: 'LocalhostProfile' } }],
  },
  [core('SeccompProfile')]: {
    unions: [{ discriminator: 'type', 'fields-to-discriminateBy': { localhostProfile: 'LocalhostProfile' } }],
  },
};
