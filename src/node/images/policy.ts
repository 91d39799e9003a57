// imagePullPolicy, as the API server defaults it and the kubelet applies it.
import { parseReference } from './reference.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export type PullDecision = { action: 'pull' } | { action: 'use' } | { action: 'fail'; reason: 'ErrImageNeverPull'; message: string };

/** The API server's default: `Always` for a `:latest` (or untagged, undigested) image, else `IfNotPresent`. */
export function defaultPullPolicy(image: string): PullPolicy {
  // An image named by digest alone has no tag, so it is not `latest`.
  return parseReference(image).tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** What the kubelet does for a container's image, given whether the store has it. */
export function decidePull(image: string, policy: PullPolicy | undefined, present: boolean): PullDecision {
  switch (policy ?? defaultPullPolicy(image)) {
    case 'Always':
      return { action: 'pull' };
    case 'IfNotPresent':
      return present ? { action: 'use' } : { action: 'pull' };
    case 'Never':
      return present
        ? { action: 'use' }
        : { action: 'fail', reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` };
  }
}
