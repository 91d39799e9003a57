// A pod's volumes for the runc runtime, set up once per pod before its containers run (the
// kubelet's volume manager, much reduced): emptyDir, configMap, secret, downwardAPI and projected
// volumes are directories of the pod dir; hostPath and persistentVolumeClaim volumes bind host
// directories; runc binds each source into the container's own mount namespace. Two kinds are
// mounted on the host, under the pod dir: memory-backed emptyDirs (tmpfs) and claims bound to
// berth.dev/loop volumes (the image's ext4 through a loop device). Those mounts are found again in
// /proc/self/mountinfo, so releasePodVolumes needs nothing but the pod dir, also after a restart.
import { lstat, mkdir, readdir, readFile, realpath, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { ConfigMap } from '../../../api/core/configmaps.js';
import type { PersistentVolume } from '../../../api/core/persistentvolumes.js';
import type { PersistentVolumeClaim } from '../../../api/core/persistentvolumeclaims.js';
import type { Pod } from '../../../api/core/pods.js';
import type { Secret } from '../../../api/core/secrets.js';
import { Quantity } from '../../../machinery/quantity.js';
import { LOOP_IMAGE_ANNOTATION, fileSystemBytes, growFileSystem, loopDevicesBacking } from '../../../volumes/loop.js';
import { runTool } from '../../../volumes/tools.js';
import { CreateContainerConfigError, podFieldValue, resourceFieldValue } from './env.js';
import type { BindMount } from './spec.js';

/** The API objects volumes come from; undefined when not found. */
export interface VolumeLookups {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  claim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  volume(name: string): Promise<PersistentVolume | undefined>;
  /**
   * The node's part of an expansion is done (the kubelet's MarkFSResizeFinished): the claim's
   * status.capacity becomes `bytes` and its FileSystemResizePending condition goes.
   */
  claimResized?(claim: PersistentVolumeClaim, bytes: bigint): Promise<void>;
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

/**
 * The files of a downwardAPI volume (or projection): each item's pod field or container resource,
 * formatted as for environment variables (labels and annotations as `key="value"` lines).
 */
export function downwardFiles(pod: Pod, source: { items?: readonly v1.DownwardAPIVolumeFile[]; defaultMode?: number }): ProjectedFile[] {
  const mode = source.defaultMode ?? 0o644;
  return (source.items ?? []).map((item) => {
    relativeSegments(item.path);
    let value: string;
    if (item.fieldRef) value = podFieldValue({ pod }, item.fieldRef.fieldPath);
    else if (item.resourceFieldRef) value = resourceFieldValue({ pod }, item.resourceFieldRef);
    else throw new CreateContainerConfigError(`downward API item "${item.path}" has neither fieldRef nor resourceFieldRef`);
    return { path: item.path, content: Buffer.from(value, 'utf8'), mode: item.mode ?? mode };
  });
}

/** The pod's memory limit as its cgroup gets it: only when every container has one. */
function podMemoryLimit(pod: Pod): bigint | undefined {
  const limit = (c: v1.Container) => (c.resources?.limits?.memory === undefined ? undefined : Quantity.parse(String(c.resources.limits.memory)).value());
  const regular = (pod.spec?.containers ?? []).map(limit);
  const init = (pod.spec?.initContainers ?? []).map(limit);
  if (![...regular, ...init].length || [...regular, ...init].some((l) => l === undefined)) return undefined;
  const sum = (regular as bigint[]).reduce((a, b) => a + b, 0n);
  return (init as bigint[]).reduce((a, b) => (b > a ? b : a), sum);
}

/**
 * The size of a memory-backed emptyDir's tmpfs (the kubelet's calculateEmptyDirMemorySize, without
 * the node's allocatable): the volume's sizeLimit or the pod's memory limit, whichever is smaller;
 * undefined (the kernel's default, half the memory) when neither is set.
 */
export function tmpfsBytes(pod: Pod, emptyDir: v1.EmptyDirVolumeSource): bigint | undefined {
  let size = podMemoryLimit(pod);
  if (size !== undefined && size <= 0n) size = undefined;
  const limit = emptyDir.sizeLimit === undefined ? undefined : Quantity.parse(String(emptyDir.sizeLimit)).value();
  if (limit !== undefined && limit > 0n && (size === undefined || limit <= size)) size = limit;
  return size;
}

/** One line of /proc/self/mountinfo. */
export interface MountInfo {
  /** The device's `major:minor`. */
  device: string;
  mountPoint: string;
  fsType: string;
  source: string;
}

/** Decodes the octal escapes the kernel writes for space, tab, newline and backslash. */
const unescapeMount = (field: string) => field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The mounts in /proc/self/mountinfo text, in its order (a mount after the ones it covers). */
export function parseMountInfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (fields.length < 10 || dash < 0) continue;
    mounts.push({ device: fields[2]!, mountPoint: unescapeMount(fields[4]!), fsType: fields[dash + 1]!, source: unescapeMount(fields[dash + 2] ?? '') });
  }
  return mounts;
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
async function claimPath(pod: Pod, podDir: string, volume: v1.Volume, lookups: VolumeLookups): Promise<string> {
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
  if (pv.spec?.volumeMode === 'Block') throw new CreateContainerConfigError(`volume "${volume.name}": block volumes are not supported yet`);
  const image = pv.metadata?.annotations?.[LOOP_IMAGE_ANNOTATION];
  if (image !== undefined) return mountLoopImage(volume.name, image, volumeDir(podDir, volume), claim, lookups);
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

// --- host mounts: loop images and tmpfs ---

const readMountInfo = async () => parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));

/**
 * Work on one loop image, one at a time in this process: two pods starting together must not attach
 * the image twice (two devices writing one ext4 corrupt it), nor a release detach what a start is
 * about to mount.
 */
const imageLocks = new Map<string, Promise<unknown>>();
async function withImageLock<T>(image: string, fn: () => Promise<T>): Promise<T> {
  const before = imageLocks.get(image) ?? Promise.resolve();
  const run = before.then(fn, fn);
  const settled = run.catch(() => undefined);
  imageLocks.set(image, settled);
  try {
    return await run;
  } finally {
    if (imageLocks.get(image) === settled) imageLocks.delete(image);
  }
}

/** The `major:minor` of a loop device (`/dev/loopN`), or undefined when it is gone. */
async function deviceNumber(device: string): Promise<string | undefined> {
  const text = await readFile(`/sys/block/${basename(device)}/dev`, 'utf8').catch(() => undefined);
  return text?.trim();
}

/** The file behind a loop device, or undefined when it is detached. */
async function backingFile(device: string): Promise<string | undefined> {
  const text = await readFile(`/sys/block/${basename(device)}/loop/backing_file`, 'utf8').catch(() => '');
  return text.trim().replace(/ \(deleted\)$/, '') || undefined;
}

/** Detaches a loop device nothing in this mount namespace has mounted; true when it did (or it was gone). */
async function detachIfUnused(device: string): Promise<boolean> {
  const number = await deviceNumber(device);
  if (number === undefined || (await backingFile(device)) === undefined) return true;
  if ((await readMountInfo()).some((m) => m.device === number)) return false;
  try {
    await runTool('losetup', ['-d', device]);
  } catch (err) {
    if ((await backingFile(device)) !== undefined) throw err;
  }
  return true;
}

const isMountPoint = async (path: string) => (await readMountInfo()).some((m) => m.mountPoint === path);
const pendingResize = (claim: PersistentVolumeClaim) => (claim.status?.conditions ?? []).some((c) => c.type === 'FileSystemResizePending' && c.status === 'True');

/**
 * Mounts a berth.dev/loop image's ext4 at `target` (in the pod dir). A loop PV is ReadWriteOnce: the
 * node attaches the image once, and every pod using it mounts that one device at its own mount
 * point, so the mounts of the device are its users and the last release detaches it. An image not
 * attached yet whose file is larger than its filesystem (an expansion while it was in use) has the
 * filesystem grown first, offline; the claim's FileSystemResizePending then ends.
 */
async function mountLoopImage(volume: string, annotated: string, target: string, claim: PersistentVolumeClaim, lookups: VolumeLookups): Promise<string> {
  if (!annotated.startsWith('/') || !annotated.endsWith('.img')) throw setupFailed(volume, `${annotated} is not a loop image`);
  const image = await realpath(annotated).catch(() => undefined);
  if (image === undefined || (await kindOf(image)) !== 'file') throw setupFailed(volume, `loop image ${annotated} does not exist`);
  return withImageLock(image, async () => {
    if (!(await isMountPoint(target))) {
      // A device no mount uses is a leftover (berth killed between attach and mount): detached,
      // so the filesystem can be checked and grown before the next attach.
      let device: string | undefined;
      for (const d of await loopDevicesBacking(image)) if (!(await detachIfUnused(d))) device ??= d;
      const attached = device === undefined;
      if (attached) {
        const fileBytes = (await stat(image, { bigint: true })).size;
        if ((await fileSystemBytes(image)) < fileBytes) {
          await growFileSystem(image).catch((err: unknown) => {
            throw setupFailed(volume, `growing the file system of ${image} failed: ${(err as Error).message}`);
          });
        }
        device = (await runTool('losetup', ['--find', '--show', image])).stdout.trim();
      }
      await mkdir(target, { recursive: true, mode: 0o755 });
      try {
        // minixdf: df shows the whole image as the size, the filesystem's own overhead as used.
        await runTool('mount', ['-t', 'ext4', '-o', 'minixdf', device!, target]);
      } catch (err) {
        if (attached) await detachIfUnused(device!).catch(() => undefined);
        throw setupFailed(volume, `mounting ${image} (${device}) at ${target} failed: ${(err as Error).message}`);
      }
    }
    if (pendingResize(claim) && lookups.claimResized) {
      const bytes = await fileSystemBytes(image);
      if (bytes >= (await stat(image, { bigint: true })).size) {
        await lookups.claimResized(claim, bytes).catch((err: unknown) => {
          throw setupFailed(volume, `recording the file system resize of claim ${claim.metadata.name} failed: ${(err as Error).message}`);
        });
      }
    }
    return target;
  });
}

/** A memory-backed emptyDir: a tmpfs at `target`, mounted once (a later call finds it). */
async function mountTmpfs(target: string, bytes: bigint | undefined): Promise<void> {
  if (await isMountPoint(target)) return;
  await mkdir(target, { recursive: true, mode: 0o777 });
  const options = ['mode=0777', ...(bytes === undefined ? [] : [`size=${bytes}`])];
  await runTool('mount', ['-t', 'tmpfs', '-o', options.join(','), 'tmpfs', target]);
}

/**
 * Undoes what preparePodVolumes mounted for the pod whose dir this is: every mount under it is
 * unmounted (the newest first), and the loop devices they used are detached unless another pod still
 * mounts them. Call it once the pod's containers are stopped. Idempotent, and it needs only the dir
 * (it reads /proc/self/mountinfo), so it also cleans up after a berth that was killed. Throws when
 * something stays mounted: the dir must then not be removed, which would reach into the volume.
 */
export async function releasePodVolumes(podDir: string): Promise<void> {
  const root = resolve(podDir);
  if (dirname(root) === root) throw new Error(`refusing to release every mount under ${root}`);
  const mounts = (await readMountInfo()).filter((m) => within(root, m.mountPoint)).reverse();
  const loops = new Set<string>();
  for (const m of mounts) {
    if (/^\/dev\/loop\d+$/.test(m.source)) loops.add(m.source);
    await runTool('umount', [m.mountPoint]).catch(async (err: unknown) => {
      if (await isMountPoint(m.mountPoint)) throw err;
    });
  }
  for (const device of loops) {
    const image = await backingFile(device);
    if (image !== undefined) await withImageLock(image, () => detachIfUnused(device));
  }
  const left = (await readMountInfo()).filter((m) => within(root, m.mountPoint));
  if (left.length) throw new Error(`still mounted under ${root}: ${left.map((m) => m.mountPoint).join(', ')}`);
}

/** Releases the pod's volumes, then removes its dir (never through a mount left in it). */
export async function removePodDir(podDir: string): Promise<void> {
  await releasePodVolumes(podDir);
  await rm(podDir, { recursive: true, force: true });
}

/**
 * Detaches the loop devices of images under `imagesDir` (the loop provisioner's volumes dir) that
 * nothing mounts: what a berth killed between attaching and mounting leaves. For recovery, after
 * the pods that stay have been adopted (their mounts keep their devices).
 */
export async function detachIdleLoopDevices(imagesDir: string): Promise<string[]> {
  const root = await realpath(imagesDir).catch(() => resolve(imagesDir));
  const detached: string[] = [];
  for (const name of await readdir('/sys/block').catch(() => [] as string[])) {
    if (!name.startsWith('loop')) continue;
    const device = `/dev/${name}`;
    const image = await backingFile(device);
    if (image === undefined || !image.endsWith('.img') || dirname(image) !== root) continue;
    if (await withImageLock(image, () => detachIfUnused(device))) detached.push(device);
  }
  return detached;
}

// --- setting up ---

const volumeDir = (podDir: string, volume: v1.Volume) => join(podDir, 'volumes', ...relativeSegments(volume.name));

async function configMapFiles(ns: string, volume: string, src: v1.ConfigMapVolumeSource | v1.ConfigMapProjection, defaultMode: number | undefined, lookups: VolumeLookups): Promise<ProjectedFile[]> {
  const cm = await lookups.configMap(ns, src.name ?? '');
  if (!cm) {
    if (src.optional) return [];
    throw setupFailed(volume, `configmap "${src.name}" not found`);
  }
  return projectedFiles('configmap', configMapData(cm), { ...src, defaultMode });
}

async function secretFiles(ns: string, volume: string, name: string, src: v1.SecretVolumeSource | v1.SecretProjection, defaultMode: number | undefined, lookups: VolumeLookups): Promise<ProjectedFile[]> {
  const s = await lookups.secret(ns, name);
  if (!s) {
    if (src.optional) return [];
    throw setupFailed(volume, `secret "${name}" not found`);
  }
  return projectedFiles('secret', secretData(s), { ...src, defaultMode });
}

/** The files of a projected volume, its sources in order (the API refuses two at one path). */
async function projectedVolumeFiles(pod: Pod, volume: v1.Volume, lookups: VolumeLookups): Promise<ProjectedFile[]> {
  const ns = pod.metadata.namespace ?? 'default';
  const { sources, defaultMode } = volume.projected!;
  const files: ProjectedFile[] = [];
  for (const src of sources ?? []) {
    if (src.configMap) files.push(...(await configMapFiles(ns, volume.name, src.configMap, defaultMode, lookups)));
    else if (src.secret) files.push(...(await secretFiles(ns, volume.name, src.secret.name ?? '', src.secret, defaultMode, lookups)));
    else if (src.downwardAPI) files.push(...downwardFiles(pod, { items: src.downwardAPI.items, defaultMode }));
    // berth issues no service account tokens (no TokenRequest), trust bundles or pod certificates:
    // the pod waits with the reason rather than run without the file it asked for.
    else if (src.serviceAccountToken) throw setupFailed(volume.name, 'serviceAccountToken projections are not supported: berth issues no service account tokens');
    else throw setupFailed(volume.name, `projected source ${Object.keys(src).join(', ')} is not supported`);
  }
  return files;
}

/** Sets up one pod volume and returns what containers bind. */
async function prepareVolume(pod: Pod, podDir: string, volume: v1.Volume, lookups: VolumeLookups): Promise<PreparedVolume> {
  const ns = pod.metadata.namespace ?? 'default';
  const dir = volumeDir(podDir, volume);
  if (volume.emptyDir) {
    const medium = volume.emptyDir.medium ?? '';
    if (medium === 'Memory') await mountTmpfs(dir, tmpfsBytes(pod, volume.emptyDir));
    else if (medium === '') await mkdir(dir, { recursive: true, mode: 0o777 });
    else throw new CreateContainerConfigError(`volume "${volume.name}": emptyDir medium ${medium} is not supported by the runc runtime`);
    return { path: dir, readOnly: false };
  }
  if (volume.hostPath) {
    await checkHostPath(volume.name, volume.hostPath.path, volume.hostPath.type);
    return { path: volume.hostPath.path, readOnly: false };
  }
  let files: ProjectedFile[] | undefined;
  if (volume.configMap) files = await configMapFiles(ns, volume.name, volume.configMap, volume.configMap.defaultMode, lookups);
  else if (volume.secret) files = await secretFiles(ns, volume.name, volume.secret.secretName ?? '', volume.secret, volume.secret.defaultMode, lookups);
  else if (volume.downwardAPI) files = downwardFiles(pod, volume.downwardAPI);
  else if (volume.projected) files = await projectedVolumeFiles(pod, volume, lookups);
  if (files) {
    await writeProjected(dir, files);
    return { path: dir, readOnly: true };
  }
  if (volume.persistentVolumeClaim) return { path: await claimPath(pod, podDir, volume, lookups), readOnly: !!volume.persistentVolumeClaim.readOnly };
  throw new CreateContainerConfigError(`volume "${volume.name}": this volume type is not supported by the runc runtime yet`);
}

/**
 * Sets up the pod volumes its containers mount (all of them before any container, as the kubelet
 * does). What it mounts on the host stays until releasePodVolumes(podDir).
 */
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
