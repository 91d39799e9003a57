// What the runc e2e tests share: when they can run, and a busybox-static image (Debian's
// busybox-static with every applet linked) imported into a data dir or pushed to a registry.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPluginDir } from '../../src/node/network/cni.js';
import { findTool } from '../../src/volumes/tools.js';
import { BERTH, startBerth, type Berth } from './berth.js';
import { dockerSaveArchive, tarball, type TarEntry } from './images.js';
import { pushImage, type After } from './registry.js';
import { eventually, getPod, isReady, type PodJson } from './statefulset.js';

const busybox = findTool('busybox');

/** Why a test needing root, runc, busybox-static, attr (and, with `network`, iptables and the CNI plugins) cannot run here; false when it can. */
export function runcSkip(opts: { network?: boolean } = {}): string | false {
  const network = opts.network ?? true;
  if (process.getuid?.() !== 0) return 'needs root (runc, overlay mounts, network namespaces)';
  if (!findTool('runc') || !busybox || !findTool('setfattr')) return 'needs runc, busybox-static and attr (scripts/setup installs them)';
  if (network && (!findTool('iptables') || findPluginDir() === undefined))
    return 'needs runc, busybox-static, attr, iptables and the CNI plugins (scripts/setup installs them)';
  return false;
}

/** Every applet of the host's busybox (`busybox --list`). */
function applets(): string[] {
  return execFileSync(busybox!, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'busybox');
}

/**
 * A busybox-static image in one layer: /bin/busybox and a symlink in /bin for every applet, /etc
 * with passwd and group, /tmp 1777, /root, and /www with an index.html.
 */
export function busyboxLayers(): Buffer[] {
  const entries: TarEntry[] = [
    { path: 'bin/', type: 'Directory' },
    { path: 'bin/busybox', mode: 0o755, body: readFileSync(busybox!) },
    ...applets().map((a): TarEntry => ({ path: `bin/${a}`, type: 'SymbolicLink', linkpath: 'busybox' })),
    { path: 'etc/', type: 'Directory' },
    { path: 'etc/passwd', body: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
    { path: 'etc/group', body: 'root:x:0:\nnogroup:x:65534:\n' },
    { path: 'root/', type: 'Directory', mode: 0o700 },
    { path: 'tmp/', type: 'Directory', mode: 0o1777 },
    { path: 'www/', type: 'Directory' },
    { path: 'www/index.html', body: 'hello from busybox\n' },
  ];
  return [tarball(entries)];
}

export interface ClaimTemplate {
  name: string;
  storage: string;
  storageClassName?: string;
}

/**
 * A StatefulSet `name` in the default namespace whose pods (labelled `app: <app ?? name>`, a 1 s
 * grace period) run `container`, with a claim template for each of `claims`.
 */
export function statefulSet(name: string, container: object, o: { replicas?: number; serviceName?: string; app?: string; claims?: ClaimTemplate[] } = {}): object {
  const app = o.app ?? name;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default' },
    spec: {
      serviceName: o.serviceName ?? name,
      replicas: o.replicas ?? 1,
      selector: { matchLabels: { app } },
      template: { metadata: { labels: { app } }, spec: { terminationGracePeriodSeconds: 1, containers: [container] } },
      volumeClaimTemplates: o.claims?.map((c) => ({
        metadata: { name: c.name },
        spec: { storageClassName: c.storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: c.storage } } },
      })),
    },
  };
}

/** A Pod `name` in the default namespace with `spec` (a 1 s grace period unless it says otherwise), as JSON for `kubectl apply -f -`. */
export function podManifest(name: string, spec: object): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { terminationGracePeriodSeconds: 1, ...spec } });
}

/** A container `app` of `image` running `sh -c command`. */
export function shContainer(image: string, command: string, extra: object = {}): object {
  return { name: 'app', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', command], ...extra };
}

/** Waits until the pod is Ready, and returns it. */
export function readyPod(b: Berth, name: string, ms = 60_000): Promise<PodJson> {
  return eventually(`pod ${name} Ready`, () => {
    const p = getPod(b, name);
    return isReady(p) && p;
  }, ms);
}

/** Imports the busybox image as `reference` into `dataDir` with `berth image import` (the archive written under `scratchDir`). */
export function importBusybox(dataDir: string, scratchDir: string, reference: string): void {
  const archive = join(scratchDir, 'busybox.tar');
  writeFileSync(archive, dockerSaveArchive([reference], busyboxLayers()));
  execFileSync(BERTH, ['image', 'import', '--data-dir', dataDir, archive], { encoding: 'utf8' });
}

/** Pushes the busybox image to the registry at `base` as `repo:tag`. */
export function pushBusybox(base: string, repo: string, tag: string): Promise<void> {
  return pushImage(base, repo, tag, busyboxLayers(), ['sh']);
}

export interface RuncFixture {
  /** A scratch dir of the test's own, removed after it. */
  dir: string;
  /** `<dir>/data`, made already. */
  dataDir: string;
  /** Starts a runc berth on the data dir (stopped after the test if it still runs). */
  start(args?: string[]): Promise<Berth>;
}

/**
 * A scratch dir and data dir for a runc berth (with the busybox image imported as `image` when
 * given). After the test, every berth started on it is stopped, `berth down` removes whatever a
 * killed one left, and the dir goes.
 */
export function runcFixture(t: After, prefix: string, image?: string): RuncFixture {
  const dir = mkdtempSync(join(tmpdir(), `berth-${prefix}-`));
  const dataDir = join(dir, 'data');
  const started: Berth[] = [];
  t.after(async () => {
    for (const b of started) await b.stop().catch(() => undefined);
    spawnSync(BERTH, ['down', '--data-dir', dataDir], { stdio: 'ignore', timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
  });
  mkdirSync(dataDir);
  if (image) importBusybox(dataDir, dir, image);
  return {
    dir,
    dataDir,
    async start(args = []) {
      const b = await startBerth({ dataDir, runtime: 'runc', args });
      started.push(b);
      return b;
    },
  };
}

// What a runc berth leaves on the host, for the tests that check it is gone.

/** The pod bridge a berth was given (`berth up` records it in node.json). */
export const bridgeOf = (dataDir: string): string => (JSON.parse(readFileSync(join(dataDir, 'node.json'), 'utf8')) as { bridge: string }).bridge;

/** Whether berth's FORWARD drop rule for `bridge` is in place. */
export const forwardRule = (bridge: string): boolean =>
  spawnSync('iptables', ['-C', 'FORWARD', '-i', bridge, '!', '-o', bridge, '-m', 'comment', '--comment', 'berth: pod traffic stays on this host', '-j', 'DROP'], {
    stdio: 'ignore',
  }).status === 0;

export const linkExists = (name: string): boolean => spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;

/** The names of the network namespaces (`ip netns list`). */
export const netnsNames = (): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter(Boolean);

/** Mount points at or under `dir`. */
export const mountsUnder = (dir: string): string[] =>
  readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));

/** `/sys/fs/cgroup/<controller>/<rel>` (or `/sys/fs/cgroup/<rel>`'s siblings on cgroup v2) that exist. */
export const cgroupDirs = (rel: string): string[] =>
  readdirSync('/sys/fs/cgroup')
    .map((c) => join('/sys/fs/cgroup', c, rel))
    .filter((p) => existsSync(p));

/** Loop devices whose backing file is under `dir` (`losetup --list`). */
export const loopDevicesUnder = (dir: string): string[] =>
  execFileSync('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([name, file]) => name && file?.startsWith(`${dir}/`))
    .map(([name]) => name!);
