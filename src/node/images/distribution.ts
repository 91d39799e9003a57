// The pure parts of the distribution (registry v2) protocol: auth challenges, picking the
// node's platform out of an index, and pull errors worded as containerd words them for the
// kubelet's ErrImagePull events.
import { type Descriptor, type ImageIndex, MEDIA_TYPE, type Platform, ociArchitecture } from './oci.js';

/** Everything berth can read, best first; a registry converts nothing, it just picks. */
export const MANIFEST_ACCEPT = [MEDIA_TYPE.index, MEDIA_TYPE.manifest, MEDIA_TYPE.dockerManifestList, MEDIA_TYPE.dockerManifest].join(', ');

export type PullFailure = 'NotFound' | 'Unauthorized' | 'NotAllowed' | 'Failed';

export class PullError extends Error {
  constructor(
    readonly reference: string,
    readonly reason: PullFailure,
    detail: string,
  ) {
    super(`failed to pull and unpack image "${reference}": ${detail}`);
    this.name = 'PullError';
  }
}

export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header (RFC 7235: `Bearer realm="…",service="…",scope="…"`). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  const param = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = m[2]!;
  param.lastIndex = 0;
  let p: RegExpExecArray | null;
  while (param.lastIndex < rest.length && (p = param.exec(rest))) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  }
  return { scheme, params };
}

/** The node's platform, as image indexes name platforms. */
export function nodePlatform(arch: string = process.arch): Platform {
  const architecture = ociArchitecture(arch);
  // Node runs on armv7 or later when 32-bit; arm64 images are v8 when they say.
  if (architecture === 'arm') return { os: 'linux', architecture, variant: 'v7' };
  if (architecture === 'arm64') return { os: 'linux', architecture, variant: 'v8' };
  return { os: 'linux', architecture };
}

/** The index entry for `platform`: its exact variant, else the newest older one (v7 runs v6), else one naming none. */
export function selectPlatform(index: ImageIndex, platform: Platform): Descriptor | undefined {
  const candidates = index.manifests.filter((d) => d.platform?.os === platform.os && d.platform.architecture === platform.architecture);
  const level = (v: string | undefined): number => Number(/^v(\d+)$/.exec(v ?? '')?.[1] ?? NaN);
  const want = level(platform.variant);
  const older = candidates
    .filter((d) => level(d.platform?.variant) <= want)
    .sort((a, b) => level(b.platform?.variant) - level(a.platform?.variant));
  return older[0] ?? candidates.find((d) => d.platform?.variant === undefined);
}
