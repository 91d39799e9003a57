// What a container's process runs, composed as the kubelet and the CRI runtime do together: the
// kubelet expands `$(VAR)` in command and args from the container's environment
// (ExpandContainerCommandAndArgs), then the runtime merges them with the image's Entrypoint and
// Cmd, working directory and user (containerd's WithProcessArgs, WithProcessCwd, WithUser).
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../../api/core/pods.js';
import type { EnvVar } from './env.js';
import { expand } from './expand.js';
import type { ImageConfig } from './image.js';

/** Refusals the runtime reports as CreateContainerError. */
export class CreateContainerError extends Error {}

export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

/**
 * The process arguments. `command` replaces the image's Entrypoint and drops its Cmd; `args`
 * alone replace Cmd. `env` is the container's environment as the kubelet computed it (not the
 * image's, which the kubelet never sees).
 */
export function processArgs(container: v1.Container, image: ImageConfig, env: readonly EnvVar[]): string[] {
  const vars = new Map(env.map((e) => [e.name, e.value]));
  const command = (container.command ?? []).map((s) => expand(s, vars));
  let args = (container.args ?? []).map((s) => expand(s, vars));
  let entry = command;
  if (!command.length) {
    if (!args.length) args = [...(image.Cmd ?? [])];
    entry = [...(image.Entrypoint ?? [])];
  }
  const all = [...entry, ...args];
  if (!all.length) throw new CreateContainerError('no command specified');
  return all;
}

/** The container's workingDir, else the image's, else `/`. Kubernetes does not expand it. */
export function workingDir(container: v1.Container, image: ImageConfig): string {
  return container.workingDir || image.WorkingDir || '/';
}

const NUMERIC = /^\d+$/;

function numericId(text: string, what: string, user: string): number {
  if (!NUMERIC.test(text)) {
    // Names need the image's /etc/passwd and /etc/group, which this pure step does not read.
    throw new CreateContainerError(`image user "${user}": ${what} "${text}" is not numeric; user and group names are not supported`);
  }
  const n = Number(text);
  if (n > 0xffffffff) throw new CreateContainerError(`image user "${user}": ${what} ${text} is out of range`);
  return n;
}

/**
 * The process user: runAsUser/runAsGroup from the container's security context, else the pod's,
 * else the image's `User` (`uid` or `uid:gid`, numeric only). A uid without a group gets gid 0
 * (containerd would look the uid up in the image's /etc/passwd first). The pod's
 * supplementalGroups and fsGroup become additional groups, as the kubelet passes them.
 */
export function processUser(pod: Pod, container: v1.Container, image: ImageConfig): ProcessUser {
  const podSc = pod.spec?.securityContext;
  const sc = container.securityContext;
  const runAsUser = sc?.runAsUser ?? podSc?.runAsUser;
  const runAsGroup = sc?.runAsGroup ?? podSc?.runAsGroup;
  let uid = 0;
  let gid = 0;
  if (runAsUser !== undefined) {
    uid = runAsUser;
  } else if (image.User) {
    const [u, g] = image.User.split(':', 2);
    uid = numericId(u, 'user', image.User);
    if (g !== undefined && g !== '') gid = numericId(g, 'group', image.User);
  }
  if (runAsGroup !== undefined) gid = runAsGroup;
  const additionalGids: number[] = [];
  for (const g of [...(podSc?.supplementalGroups ?? []), ...(podSc?.fsGroup !== undefined ? [podSc.fsGroup] : [])]) {
    if (!additionalGids.includes(g)) additionalGids.push(g);
  }
  return { uid, gid, additionalGids };
}
