// Registry credentials from a pod's imagePullSecrets, as the kubelet's credential provider reads
// them: `kubernetes.io/dockerconfigjson` (`{"auths": {host: …}}`) and the older
// `kubernetes.io/dockercfg` (`{host: …}`); each entry's `username`/`password`, or `auth`
// (base64 of `user:password`). Keys may be URLs (`https://index.docker.io/v1/`): the host is
// what counts, and Docker Hub's legacy names mean `docker.io`. Pure.
import type { Secret } from '../../api/core/secrets.js';
import type { Credentials } from './pull.js';

interface AuthEntry {
  username?: string;
  password?: string;
  auth?: string;
}

const DOCKER_HUB = new Set(['index.docker.io', 'registry-1.docker.io', 'docker.io']);

/** `https://index.docker.io/v1/` → `docker.io`; `localhost:5000/x` → `localhost:5000`. */
export function registryHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!.toLowerCase();
  return DOCKER_HUB.has(host) ? 'docker.io' : host;
}

function entryCredentials(entry: AuthEntry): Credentials | undefined {
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Credentials by registry host from the secrets, the first secret naming a host winning (as the kubelet tries them in order). */
export function pullSecretCredentials(secrets: readonly Secret[]): Record<string, Credentials> {
  const out: Record<string, Credentials> = {};
  for (const secret of secrets) {
    let auths: Record<string, AuthEntry> | undefined;
    try {
      if (secret.type === 'kubernetes.io/dockerconfigjson' && secret.data?.['.dockerconfigjson']) {
        auths = (JSON.parse(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString('utf8')) as { auths?: Record<string, AuthEntry> }).auths;
      } else if (secret.type === 'kubernetes.io/dockercfg' && secret.data?.['.dockercfg']) {
        auths = JSON.parse(Buffer.from(secret.data['.dockercfg'], 'base64').toString('utf8')) as Record<string, AuthEntry>;
      }
    } catch {
      continue; // validation makes these JSON; an unreadable one is skipped, as the kubelet does
    }
    for (const [key, entry] of Object.entries(auths ?? {})) {
      const host = registryHost(key);
      const creds = entry && typeof entry === 'object' ? entryCredentials(entry) : undefined;
      if (creds && !(host in out)) out[host] = creds;
    }
  }
  return out;
}
