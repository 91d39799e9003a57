// Registry settings, in the spirit of containerd's hosts configuration: per registry host, mirrors
// tried in order before the registry itself, and a node-wide allow-list of hosts a pull may
// contact. Read from `<dataDir>/registries.yaml`; this module only parses and plans (no I/O).
import { parse } from 'yaml';

export interface RegistryHostConfig {
  /** Endpoint base URLs (`https://mirror.example`), tried in order; `/v2/` is appended. */
  mirrors: string[];
  /** Skip the registry itself when every mirror failed. */
  mirrorsOnly: boolean;
  /** Plain http for the registry itself (and for mirrors written without a scheme). */
  insecure: boolean;
}

export interface RegistriesConfig {
  /** Hosts pulls may contact; undefined means any. */
  allow?: string[];
  registries: Record<string, RegistryHostConfig>;
}

export interface Endpoint {
  /** Base URL without a trailing slash, e.g. `https://registry-1.docker.io`. */
  url: string;
  /** `host[:port]` of the URL: what credentials and the allow-list are matched by. */
  host: string;
  mirror: boolean;
}

export const EMPTY_REGISTRIES: RegistriesConfig = { registries: {} };

/** Docker Hub's name and where its API actually is. */
const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

export class PullNotAllowedError extends Error {
  constructor(readonly registry: string) {
    super(`registry "${registry}" is not in the allow-list of registries.yaml`);
    this.name = 'PullNotAllowedError';
  }
}

function fail(what: string): never {
  throw new Error(`registries.yaml: ${what}`);
}

/** Parses registries.yaml; an empty file (or none: pass '') allows everything with no mirrors. */
export function parseRegistries(text: string): RegistriesConfig {
  const doc = (parse(text) ?? {}) as unknown;
  if (typeof doc !== 'object' || Array.isArray(doc)) fail('expected a mapping');
  const { allow, registries, ...rest } = doc as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) fail(`unknown field(s) ${unknown.join(', ')}`);
  const config: RegistriesConfig = { registries: {} };
  if (allow !== undefined && allow !== null) {
    if (!Array.isArray(allow) || !allow.every((h) => typeof h === 'string')) fail('allow must be a list of hosts');
    config.allow = (allow as string[]).map((h) => h.toLowerCase());
  }
  if (registries !== undefined && registries !== null) {
    if (typeof registries !== 'object' || Array.isArray(registries)) fail('registries must map hosts to settings');
    for (const [host, raw] of Object.entries(registries as Record<string, unknown>)) {
      const r = (raw ?? {}) as Record<string, unknown>;
      if (typeof r !== 'object' || Array.isArray(r)) fail(`registries.${host} must be a mapping`);
      const { mirrors = [], mirrorsOnly = false, insecure = false, ...other } = r;
      if (Object.keys(other).length) fail(`registries.${host}: unknown field(s) ${Object.keys(other).join(', ')}`);
      if (!Array.isArray(mirrors) || !mirrors.every((m) => typeof m === 'string')) fail(`registries.${host}.mirrors must be a list of URLs`);
      if (typeof mirrorsOnly !== 'boolean' || typeof insecure !== 'boolean') fail(`registries.${host}: mirrorsOnly and insecure are booleans`);
      if (mirrorsOnly && !mirrors.length) fail(`registries.${host}: mirrorsOnly without mirrors`);
      for (const m of mirrors as string[]) endpoint(m, insecure, true); // Bad URLs fail here, not mid-pull.
      config.registries[host.toLowerCase()] = { mirrors: mirrors as string[], mirrorsOnly, insecure };
    }
  }
  return config;
}

function endpoint(raw: string, insecure: boolean, mirror: boolean): Endpoint {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `${insecure ? 'http' : 'https'}://${raw}`);
  } catch {
    fail(`"${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`"${raw}": only http and https endpoints`);
  // `/v2` is the API's own prefix, added per request: accept it written in the URL too.
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v2$/, '');
  return { url: `${url.protocol}//${url.host}${path}`, host: url.host.toLowerCase(), mirror };
}

/** Every endpoint a pull from `registry` (a reference's domain) may use, in order, before the allow-list. */
export function endpointsFor(config: RegistriesConfig, registry: string): Endpoint[] {
  const domain = registry.toLowerCase();
  const settings = config.registries[domain];
  const out = (settings?.mirrors ?? []).map((m) => endpoint(m, settings!.insecure, true));
  if (!settings?.mirrorsOnly) {
    const own = endpoint(domain === DOCKER_HUB ? DOCKER_HUB_API : domain, settings?.insecure ?? false, false);
    out.push(own);
  }
  return out;
}

/** Whether the allow-list lets a pull from `registry` use `e`: by the endpoint's host, or for the registry's own endpoint by the registry's name. */
export function isAllowed(config: RegistriesConfig, registry: string, e: Endpoint): boolean {
  if (!config.allow) return true;
  return config.allow.includes(e.host) || (!e.mirror && config.allow.includes(registry.toLowerCase()));
}

/** The allowed endpoints, in order; throws PullNotAllowedError when there are none, before any traffic. */
export function planEndpoints(config: RegistriesConfig, registry: string): Endpoint[] {
  const allowed = endpointsFor(config, registry).filter((e) => isAllowed(config, registry, e));
  if (!allowed.length) throw new PullNotAllowedError(registry);
  return allowed;
}
