// A container's environment, as the kubelet makes it (makeEnvironmentVariables) and the CRI
// runtime completes it with the image's (containerd's WithEnv). The kubelet's part: envFrom
// sources in order, then env in order, each value either literal with `$(VAR)` expanded from
// what came before, or from the downward API, a ConfigMap or a Secret. Kubernetes' service
// environment variables (enableServiceLinks: FOO_SERVICE_HOST, ...) are not made here yet.
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { ConfigMap } from '../../../api/core/configmaps.js';
import { isEnvVarName } from '../../../api/core/podspec.js';
import type { Pod } from '../../../api/core/pods.js';
import type { Secret } from '../../../api/core/secrets.js';
import { Quantity } from '../../../machinery/quantity.js';
import type { RuntimeEvent } from '../types.js';
import { expand } from './expand.js';
import type { ImageConfig } from './image.js';

export interface EnvVar {
  name: string;
  value: string;
}

/** A reason to fail the container with CreateContainerConfigError; the message is the kubelet's. */
export class CreateContainerConfigError extends Error {}

export interface EnvInput {
  pod: Pod;
  container: v1.Container;
  /** ConfigMaps and Secrets of the pod's namespace, by name. */
  configMap(name: string): ConfigMap | undefined;
  secret(name: string): Secret | undefined;
  /** The pod's addresses and its node's (status.podIPs, status.hostIPs), primary first. */
  podIPs?: readonly string[];
  hostIPs?: readonly string[];
  /** The node's allocatable cpu, memory and ephemeral-storage: what an unset limit means to the downward API. */
  nodeAllocatable?: Readonly<Record<string, string>>;
}

export interface EnvResult {
  env: EnvVar[];
  /** Warnings to record on the pod (InvalidEnvironmentVariableNames). */
  events: RuntimeEvent[];
}

/** The API's NotFound for a ConfigMap or Secret, as the kubelet's object managers word it. */
const notFound = (kind: 'configmap' | 'secret', name: string) => new CreateContainerConfigError(`${kind} "${name}" not found`);

const decode = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');

/** The container's environment in the kubelet's terms. Throws CreateContainerConfigError. */
export function containerEnv(input: EnvInput): EnvResult {
  const { pod, container } = input;
  const ns = pod.metadata.namespace ?? '';
  // Insertion order stands in for the kubelet's map order; a later value replaces an earlier one in place.
  const vars = new Map<string, string>();
  const events: RuntimeEvent[] = [];

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let data: Record<string, string> | undefined;
    let kind: 'configMap' | 'secret';
    let name: string;
    if (from.configMapRef) {
      kind = 'configMap';
      name = from.configMapRef.name ?? '';
      const cm = input.configMap(name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw notFound('configmap', name);
      }
      data = cm.data ?? {};
    } else if (from.secretRef) {
      kind = 'secret';
      name = from.secretRef.name ?? '';
      const s = input.secret(name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw notFound('secret', name);
      }
      data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, decode(v)]));
    } else {
      continue;
    }
    const invalid: string[] = [];
    // Go ranges over the map in random order; sorted keys make the result stable.
    for (const key of Object.keys(data).sort()) {
      const k = prefix + key;
      if (isEnvVarName(k).length) invalid.push(k);
      else vars.set(k, data[key]);
    }
    if (invalid.length) {
      invalid.sort();
      events.push({
        type: 'Warning',
        reason: 'InvalidEnvironmentVariableNames',
        message: `Keys [${invalid.join(', ')}] from the EnvFrom ${kind} ${ns}/${name} were skipped since they are considered invalid environment variable names.`,
      });
    }
  }

  for (const ev of container.env ?? []) {
    let value = '';
    if (ev.value) {
      value = expand(ev.value, vars);
    } else if (ev.valueFrom) {
      const v = valueFrom(input, ev.valueFrom);
      if (v === undefined) continue; // an optional source that is missing
      value = v;
    }
    vars.set(ev.name, value);
  }
  return { env: [...vars].map(([name, value]) => ({ name, value })), events };
}

/** A ConfigMap's or Secret's key, with `optional` as kubelet honours it and kubelet's errors. */
function keyRef(
  ref: { name?: string; key: string; optional?: boolean },
  resource: 'configmap' | 'secret',
  kind: 'ConfigMap' | 'Secret',
  ns: string,
  dataOf: (name: string) => Record<string, string> | undefined,
): string | undefined {
  const { name = '', key, optional } = ref;
  const data = dataOf(name);
  if (!data) {
    if (optional) return undefined;
    throw notFound(resource, name);
  }
  const v = data[key];
  if (v === undefined && !optional) throw new CreateContainerConfigError(`couldn't find key ${key} in ${kind} ${ns}/${name}`);
  return v;
}

function valueFrom(input: EnvInput, src: v1.EnvVarSource): string | undefined {
  const ns = input.pod.metadata.namespace ?? '';
  if (src.fieldRef) return podFieldValue(input, src.fieldRef.fieldPath);
  if (src.resourceFieldRef) return resourceFieldValue(input, src.resourceFieldRef);
  // An object without data has no keys; a missing object is another error.
  const dataOf = (obj: { data?: Record<string, string> } | undefined) => obj && (obj.data ?? {});
  if (src.configMapKeyRef) return keyRef(src.configMapKeyRef, 'configmap', 'ConfigMap', ns, (n) => dataOf(input.configMap(n)));
  if (src.secretKeyRef) {
    const v = keyRef(src.secretKeyRef, 'secret', 'Secret', ns, (n) => dataOf(input.secret(n)));
    return v === undefined ? undefined : decode(v);
  }
  return '';
}

const GO_ESCAPES: Readonly<Record<string, string>> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Go's strconv.Quote (%q): printable runes as they are, the rest escaped as Go escapes them. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\ufffd'; // a lone surrogate: Go decoded it as U+FFFD
    else if (ch === ' ' || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) out += ch;
    else if (GO_ESCAPES[ch]) out += GO_ESCAPES[ch];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return `${out}"`;
}

/** fieldpath.FormatMap: `k="v"` lines in key order, the value quoted as Go's %q quotes it. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(m![k]!)}`)
    .join('\n');
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/** podFieldSelectorRuntimeValue and fieldpath.ExtractFieldPathAsString (also the downward API volume's). */
export function podFieldValue(input: Pick<EnvInput, 'pod' | 'podIPs' | 'hostIPs'>, fieldPath: string): string {
  const { pod } = input;
  const meta = pod.metadata;
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return input.podIPs?.[0] ?? '';
    case 'status.podIPs':
      return (input.podIPs ?? []).join(',');
    case 'status.hostIP':
      return input.hostIPs?.[0] ?? '';
    case 'status.hostIPs':
      return (input.hostIPs ?? []).join(',');
  }
  const m = SUBSCRIPT.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? meta.labels : meta.annotations)?.[m[2]] ?? '';
  throw new CreateContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
}

const ceilDiv = (a: bigint, b: bigint) => (a <= 0n ? a / b : (a + b - 1n) / b);

/**
 * ExtractContainerResourceValue over the container's resources, unset limits being the node's
 * allocatable; `container` is the one a selector without containerName means (none in a volume).
 */
export function resourceFieldValue(input: Pick<EnvInput, 'pod' | 'nodeAllocatable'> & { container?: v1.Container }, ref: v1.ResourceFieldSelector): string {
  const target = ref.containerName ? (input.pod.spec?.containers ?? []).concat(input.pod.spec?.initContainers ?? []).find((c) => c.name === ref.containerName) : input.container;
  if (!target) throw new CreateContainerConfigError(`container ${ref.containerName} not found`);
  const divisorText = ref.divisor === undefined ? undefined : String(ref.divisor);
  let divisor = divisorText === undefined ? Quantity.parse('1') : Quantity.parse(divisorText);
  if (divisor.isZero()) divisor = Quantity.parse('1');
  const [kind, resource] = ref.resource.split('.', 2) as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !resource || !['cpu', 'memory', 'ephemeral-storage'].includes(resource)) {
    throw new CreateContainerConfigError(`unsupported container resource : ${ref.resource}`);
  }
  const list = kind === 'limits' ? target.resources?.limits : target.resources?.requests;
  let text = list?.[resource] === undefined ? undefined : String(list[resource]);
  if (text === undefined && kind === 'limits') text = input.nodeAllocatable?.[resource];
  const q = Quantity.parse(text ?? '0');
  // CPU in thousandths of the divisor, the rest in whole units, rounded up as the kubelet does.
  return resource === 'cpu' ? ceilDiv(q.milliValue(), divisor.milliValue()).toString() : ceilDiv(q.value(), divisor.value()).toString();
}

/** containerd's default PATH, kept unless the image or the container sets one. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The process environment (`KEY=value`), layered as containerd's CRI does: the default PATH,
 * HOSTNAME, the image's Env, then the container's; a later value for a name replaces the earlier
 * one in its place.
 */
export function processEnv(image: ImageConfig, env: readonly EnvVar[], hostname: string): string[] {
  const merged = new Map<string, string>();
  const put = (entry: string) => {
    const eq = entry.indexOf('=');
    const name = eq === -1 ? entry : entry.slice(0, eq);
    merged.set(name, entry);
  };
  put(`PATH=${DEFAULT_PATH}`);
  put(`HOSTNAME=${hostname}`);
  for (const e of image.Env ?? []) put(e);
  for (const e of env) put(`${e.name}=${e.value}`);
  return [...merged.values()];
}
