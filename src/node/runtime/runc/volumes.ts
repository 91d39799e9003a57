// A pod's volumes for the runc runtime, set up once per pod before its containers run (the
// kubelet's volume manager, much reduced): emptyDir, configMap and secret volumes are directories
// of the pod dir; hostPath and persistentVolumeClaim volumes bind host directories. Nothing is
// mounted on the host: runc binds each source into the container's own mount namespace, so a
// container's end leaves no mount behind. Loop-image volumes are not mounted yet.
import { lstat, mkdir, realpath, stat, writeFile, chmod } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { ConfigMap } from '../../../api/core/configmaps.js';
import type { PersistentVolume } from '../../../api/core/persistentvolumes.js';
import type { PersistentVolumeClaim } from '../../../api/core/persistentvolumeclaims.js';
import type { Pod } from '../../../api/core/pods.js';
import type { Secret } from '../../../api/core/secrets.js';
import { LOOP_IMAGE_ANNOTATION } from '../../../volumes/loop.js';
import { CreateContainerConfigError } from './env.js';
import type { BindMount } from './spec.js';

/** The API objects volumes come from; undefined when not found. */
export interface VolumeLookups {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  claim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  volume(name: string): Promise<PersistentVolume | undefined>;
}

/** A volume that cannot be set up yet: the pod waits in ContainerCreating, with a FailedMount event. */
export class MountError extends Error {}

/** A volume ready to bind: its host directory (or file) and whether the source forces read-only. */
export interface PreparedVolume {
  path: string;
  readOnly: boolean;
}

const setupFailed = (volume: string, why: string) => new MountError(`MountVolume.SetUp failed for volume "${volume}" : ${why}`);

// --- pure ---

/** A projected file: a key's content at a relative path, with its mode. */
export interface ProjectedFile {
  path: string;
  content: Buffer;
  mode: number;
}

/** The relative path's segments; refuses absolute paths, `..` and empty paths (the API's own checks). */
export function relativeSegments(path: string): string[] {
  if (path.startsWith('/')) throw new CreateContainerConfigError(`path "${path}" must be relative`);
  const segments = path.split('/').filter((s) => s && s !== '.');
  if (segments.includes('..')) throw new CreateContainerConfigError(`path "${path}" must not contain '..'`);
  if (!segments.length) throw new CreateContainerConfigError(`path "${path}" is empty`);
  return segments;
}

/**
 * The files of a configMap or secret volume: every key, or only the listed items, at their paths
 * with their modes (defaultMode, else 0644). A listed key the data lacks fails unless optional.
 */
export function projectedFiles(
  kind: 'configmap' | 'secret',
  data: ReadonlyMap<string, Buffer>,
  source: { items?: readonly v1.KeyToPath[]; defaultMode?: number; optional?: boolean },
): ProjectedFile[] {
  const mode = source.defaultMode ?? 0o644;
  if (!source.items?.length) return [...data].map(([key, content]) => ({ path: key, content, mode }));
  const files: ProjectedFile[] = [];
  for (const item of source.items) {
    const content = data.get(item.key);
    if (content === undefined) {
      if (source.optional) continue;
      throw new MountError(`${kind} references non-existent config key: ${item.key}`);
    }
    relativeSegments(item.path);
    files.push({ path: item.path, content, mode: item.mode ?? mode });
  }
  return files;
}

export function configMapData(cm: ConfigMap): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  return out;
}

export function secretData(s: Secret): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(s.stringData ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  return out;
}

/** Whether `path` is `root` or below it. */
export const within = (root: string, path: string) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

// --- effects ---

type Kind = 'directory' | 'file' | 'socket' | 'char' | 'block' | 'other';

async function kindOf(path: string): Promise<Kind | undefined> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return undefined;
  return s.isDirectory() ? 'directory' : s.isFile() ? 'file' : s.isSocket() ? 'socket' : s.isCharacterDevice() ? 'char' : s.isBlockDevice() ? 'block' : 'other';
}

const HOST_PATH_KINDS: Record<string, { kind: Kind; noun: string }> = {
  Directory: { kind: 'directory', noun: 'a directory' },
  DirectoryOrCreate: { kind: 'directory', noun: 'a directory' },
  File: { kind: 'file', noun: 'a file' },
  FileOrCreate: { kind: 'file', noun: 'a file' },
  Socket: { kind: 'socket', noun: 'a socket file' },
  CharDevice: { kind: 'char', noun: 'a character device' },
  BlockDevice: { kind: 'block', noun: 'a block device' },
};

/** The kubelet's hostPath type check, creating what the *OrCreate types ask for. */
async function checkHostPath(volume: string, path: string, type: string | undefined): Promise<void> {
  if (!path.startsWith('/')) throw setupFailed(volume, `hostPath ${path} is not absolute`);
  const want = type ? HOST_PATH_KINDS[type] : undefined;
  if (!want) return; // '' (unset): nothing checked, as with Kubernetes
  let kind = await kindOf(path);
  if (kind === undefined && type === 'DirectoryOrCreate') await mkdir(path, { recursive: true, mode: 0o755 });
  if (kind === undefined && type === 'FileOrCreate') {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await writeFile(path, '', { flag: 'a', mode: 0o644 });
  }
  kind ??= await kindOf(path);
  if (kind !== want.kind) throw setupFailed(volume, `hostPath type check failed: ${path} is not ${want.noun}`);
}

async function writeProjected(dir: string, files: readonly ProjectedFile[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const f of files) {
    const target = join(dir, ...relativeSegments(f.path));
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, f.content);
    await chmod(target, f.mode & 0o7777);
  }
}

/** The claim's bound volume as a host directory; MountError while it is not bound. */
async function claimPath(pod: Pod, volume: v1.Volume, lookups: VolumeLookups): Promise<string> {
  const ns = pod.metadata.namespace ?? 'default';
  const claimName = volume.persistentVolumeClaim!.claimName;
  const claim = await lookups.claim(ns, claimName);
  if (!claim) throw new MountError(`Unable to attach or mount volumes: unmounted volumes=[${volume.name}]: error processing PVC ${ns}/${claimName}: persistentvolumeclaim "${claimName}" not found`);
  const pvName = claim.spec?.volumeName;
  if (claim.status?.phase !== 'Bound' || !pvName) {
    throw new MountError(`Unable to attach or mount volumes: unmounted volumes=[${volume.name}]: error processing PVC ${ns}/${claimName}: PVC is not bound (unbound claim)`);
  }
  const pv = await lookups.volume(pvName);
  if (!pv) throw new MountError(`Unable to attach or mount volumes: unmounted volumes=[${volume.name}]: persistentvolume "${pvName}" not found`);
  if (pv.metadata?.annotations?.[LOOP_IMAGE_ANNOTATION]) throw new CreateContainerConfigError(`volume "${volume.name}": loop volumes are not mounted yet`);
  if (pv.spec?.volumeMode === 'Block') throw new CreateContainerConfigError(`volume "${volume.name}": block volumes are not supported yet`);
  const local = pv.spec?.local?.path;
  const hostPath = pv.spec?.hostPath;
  if (local !== undefined) {
    if ((await kindOf(local)) !== 'directory') throw setupFailed(volume.name, `path "${local}" does not exist or is not a directory`);
    return local;
  }
  if (hostPath) {
    await checkHostPath(volume.name, hostPath.path, hostPath.type);
    return hostPath.path;
  }
  throw new CreateContainerConfigError(`volume "${volume.name}": persistent volume ${pvName} has a source the runc runtime does not mount yet`);
}

/** Sets up one pod volume and returns what containers bind. */
async function prepareVolume(pod: Pod, podDir: string, volume: v1.Volume, lookups: VolumeLookups): Promise<PreparedVolume> {
  const ns = pod.metadata.namespace ?? 'default';
  const dir = join(podDir, 'volumes', ...relativeSegments(volume.name));
  if (volume.emptyDir) {
    await mkdir(dir, { recursive: true, mode: 0o777 });
    return { path: dir, readOnly: false };
  }
  if (volume.hostPath) {
    await checkHostPath(volume.name, volume.hostPath.path, volume.hostPath.type);
    return { path: volume.hostPath.path, readOnly: false };
  }
  if (volume.configMap) {
    const src = volume.configMap;
    const cm = await lookups.configMap(ns, src.name ?? '');
    if (!cm && !src.optional) throw setupFailed(volume.name, `configmap "${src.name}" not found`);
    await writeProjected(dir, cm ? projectedFiles('configmap', configMapData(cm), src) : []);
    return { path: dir, readOnly: true };
  }
  if (volume.secret) {
    const src = volume.secret;
    const s = await lookups.secret(ns, src.secretName ?? '');
    if (!s && !src.optional) throw setupFailed(volume.name, `secret "${src.secretName}" not found`);
    await writeProjected(dir, s ? projectedFiles('secret', secretData(s), src) : []);
    return { path: dir, readOnly: true };
  }
  if (volume.persistentVolumeClaim) return { path: await claimPath(pod, volume, lookups), readOnly: !!volume.persistentVolumeClaim.readOnly };
  throw new CreateContainerConfigError(`volume "${volume.name}": this volume type is not supported by the runc runtime yet`);
}

/** Sets up the pod volumes its containers mount (all of them before any container, as the kubelet does). */
export async function preparePodVolumes(pod: Pod, podDir: string, lookups: VolumeLookups): Promise<Map<string, PreparedVolume>> {
  const used = new Set([...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
  const out = new Map<string, PreparedVolume>();
  for (const volume of pod.spec?.volumes ?? []) if (used.has(volume.name)) out.set(volume.name, await prepareVolume(pod, podDir, volume, lookups));
  return out;
}

/**
 * The host path of `subPath` in the volume rooted at `root`, created as directories where missing
 * (as the kubelet does); every existing component is resolved and must stay within the root, so
 * a symlink in the volume cannot lead the mount elsewhere on the host.
 */
export async function resolveSubPath(root: string, subPath: string): Promise<string> {
  const realRoot = await realpath(root);
  let current = realRoot;
  for (const segment of relativeSegments(subPath)) {
    const next = join(current, segment);
    const info = await lstat(next).catch(() => undefined);
    if (!info) {
      await mkdir(next, { mode: 0o750 });
      current = next;
      continue;
    }
    const resolved = info.isSymbolicLink() ? await realpath(next).catch(() => undefined) : next;
    if (resolved === undefined || !within(realRoot, resolved)) throw new CreateContainerConfigError(`subPath "${subPath}" leads outside its volume`);
    current = resolved;
  }
  return current;
}

/** The container's binds of its volumeMounts. */
export async function containerMounts(c: v1.Container, volumes: ReadonlyMap<string, PreparedVolume>): Promise<BindMount[]> {
  const mounts: BindMount[] = [];
  for (const vm of c.volumeMounts ?? []) {
    const volume = volumes.get(vm.name);
    if (!volume) throw new CreateContainerConfigError(`cannot find volume "${vm.name}" to mount into container "${c.name}"`);
    if (vm.subPathExpr) throw new CreateContainerConfigError(`volume "${vm.name}": subPathExpr is not supported yet`);
    const source = vm.subPath ? await resolveSubPath(volume.path, vm.subPath) : volume.path;
    mounts.push({ source, destination: vm.mountPath, readOnly: volume.readOnly || !!vm.readOnly });
  }
  return mounts;
}
