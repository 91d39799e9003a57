// A CNI client: attaches pods' network namespaces to the pod network by running the reference
// plugins as the CNI spec (1.0.0) says: the list's plugins in order for ADD and CHECK, in reverse
// for DEL, each given the previous result, with loopback run on its own for `lo`.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from '../../volumes/tools.js';
import {
  loopbackConfig,
  networkConfigList,
  parseResult,
  pluginErrorMessage,
  pluginStdin,
  type AttachResult,
  type CniResult,
  type NetworkConfigList,
  type PortMapping,
} from './config.js';

/** Debian's containernetworking-plugins, then upstream's release tarball. */
export const PLUGIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

export function findPluginDir(): string | undefined {
  return PLUGIN_DIRS.find((dir) => {
    try {
      accessSync(join(dir, 'bridge'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export class CniError extends Error {}

export interface CniNetworkOptions {
  /** The node's pod range (Node.spec.podCIDR). */
  podCIDR: string;
  /** Where host-local's reservations and the cached ADD results live, e.g. `<data-dir>/cni`. */
  dataDir: string;
  /** The network's name; default `berth`. */
  name?: string;
  /** The bridge; default `berth0`. */
  bridge?: string;
  /** Default: the first of PLUGIN_DIRS holding the plugins. */
  pluginDir?: string;
}

/** What ADD left, kept for CHECK and DEL as libcni keeps it: they need ADD's result. */
interface Attachment {
  result: CniResult;
  portMappings: PortMapping[];
}

interface Invocation {
  command: 'ADD' | 'DEL' | 'CHECK';
  containerId: string;
  netns: string;
  ifName: string;
}

export class CniNetwork {
  readonly list: NetworkConfigList;
  readonly bridge: string;
  private readonly pluginDir: string;
  private readonly ipamDir: string;
  private readonly resultsDir: string;

  constructor(opts: CniNetworkOptions) {
    const pluginDir = opts.pluginDir ?? findPluginDir();
    if (pluginDir === undefined) {
      throw new CniError(`no CNI plugins in ${PLUGIN_DIRS.join(' or ')} (install the containernetworking-plugins package)`);
    }
    this.pluginDir = pluginDir;
    this.bridge = opts.bridge ?? 'berth0';
    this.ipamDir = join(opts.dataDir, 'ipam');
    this.resultsDir = join(opts.dataDir, 'results');
    this.list = networkConfigList({ name: opts.name ?? 'berth', bridge: this.bridge, podCIDR: opts.podCIDR, ipamDataDir: this.ipamDir });
  }

  /** Attaches the pod's namespace: `lo` up, then `ifName` on the bridge with an address. */
  async add(podId: string, netns: string, ifName = 'eth0', portMappings: PortMapping[] = []): Promise<AttachResult> {
    await this.invoke(loopbackConfig(), 0, { command: 'ADD', containerId: podId, netns, ifName: 'lo' }, undefined, []);
    let prevResult: unknown;
    try {
      for (let i = 0; i < this.list.plugins.length; i++) {
        if (this.skipped(i, portMappings)) continue;
        prevResult = JSON.parse(await this.invoke(this.list, i, { command: 'ADD', containerId: podId, netns, ifName }, prevResult, portMappings));
      }
    } catch (err) {
      // The spec has the runtime DEL after a failed ADD, so no half-made attachment stays.
      await this.runDel(podId, netns, ifName, { result: (prevResult ?? {}) as CniResult, portMappings }).catch(() => {});
      throw err;
    }
    const attached = parseResult(JSON.stringify(prevResult));
    await mkdir(this.resultsDir, { recursive: true });
    const cached: Attachment = { result: attached.raw, portMappings };
    await writeFile(this.resultFile(podId, ifName), JSON.stringify(cached));
    return attached;
  }

  /** Asks every plugin whether the attachment is still as ADD left it; throws what one finds wrong. */
  async check(podId: string, netns: string, ifName = 'eth0'): Promise<void> {
    const attachment = await this.attachment(podId, ifName);
    if (attachment === undefined) throw new CniError(`pod ${podId} has no ${ifName} on network ${this.list.name}`);
    await this.invoke(loopbackConfig(), 0, { command: 'CHECK', containerId: podId, netns, ifName: 'lo' }, undefined, []);
    for (let i = 0; i < this.list.plugins.length; i++) {
      if (this.skipped(i, attachment.portMappings)) continue;
      await this.invoke(this.list, i, { command: 'CHECK', containerId: podId, netns, ifName }, attachment.result, attachment.portMappings);
    }
  }

  /** Detaches the pod: its veth, port mappings and address go. Idempotent, as the spec asks of DEL. */
  async del(podId: string, netns: string, ifName = 'eth0'): Promise<void> {
    const attachment = (await this.attachment(podId, ifName)) ?? { result: {}, portMappings: [] };
    await this.runDel(podId, netns, ifName, attachment);
    await rm(this.resultFile(podId, ifName), { force: true });
  }

  /** Removes what the pods share: the bridge, host-local's state and the cached results. */
  async teardown(): Promise<void> {
    const shown = await runTool('ip', ['link', 'show', 'dev', this.bridge], [0, 1]);
    if (shown.exitCode === 0) await runTool('ip', ['link', 'delete', 'dev', this.bridge]);
    await rm(join(this.ipamDir, this.list.name), { recursive: true, force: true });
    await rm(this.resultsDir, { recursive: true, force: true });
  }

  private async runDel(podId: string, netns: string, ifName: string, attachment: Attachment): Promise<void> {
    // A namespace already gone is no error: the plugins then release what lives outside it.
    const ns = existsSync(netns) ? netns : '';
    const prevResult = attachment.result.cniVersion === undefined ? undefined : attachment.result;
    for (let i = this.list.plugins.length - 1; i >= 0; i--) {
      if (this.skipped(i, attachment.portMappings)) continue;
      await this.invoke(this.list, i, { command: 'DEL', containerId: podId, netns: ns, ifName }, prevResult, attachment.portMappings);
    }
    await this.invoke(loopbackConfig(), 0, { command: 'DEL', containerId: podId, netns: ns, ifName: 'lo' }, undefined, []);
  }

  /** Whether the pod has an attachment ADD recorded (a DEL then has something to undo). */
  attached(podId: string, ifName = 'eth0'): boolean {
    return existsSync(this.resultFile(podId, ifName));
  }

  /**
   * portmap with no mappings does nothing but cost a process per pod (ADD passes the result
   * through unchanged), so it runs only for pods with hostPorts.
   */
  private skipped(index: number, portMappings: readonly PortMapping[]): boolean {
    return this.list.plugins[index]?.type === 'portmap' && portMappings.length === 0;
  }

  private async attachment(podId: string, ifName: string): Promise<Attachment | undefined> {
    try {
      return JSON.parse(await readFile(this.resultFile(podId, ifName), 'utf8')) as Attachment;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private resultFile(podId: string, ifName: string): string {
    return join(this.resultsDir, `${this.list.name}-${podId}-${ifName}.json`);
  }

  /** Runs one plugin and returns its stdout; a failure throws the plugin's own message. */
  private invoke(list: NetworkConfigList, index: number, inv: Invocation, prevResult: unknown, portMappings: PortMapping[]): Promise<string> {
    const type = list.plugins[index].type;
    const env = {
      // The plugins run iptables and ip, which live in sbin.
      PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`,
      CNI_COMMAND: inv.command,
      CNI_CONTAINERID: inv.containerId,
      CNI_NETNS: inv.netns,
      CNI_IFNAME: inv.ifName,
      CNI_PATH: this.pluginDir,
    };
    const stdin = pluginStdin(list, index, prevResult, { portMappings });
    return new Promise((resolve, reject) => {
      const child = spawn(join(this.pluginDir, type), [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (err) => reject(new CniError(`CNI plugin ${type} could not be run: ${err.message}`)));
      child.on('close', (code) => {
        if (code === 0) resolve(stdout);
        else reject(new CniError(`CNI plugin ${type} ${inv.command} for ${inv.containerId} failed: ${pluginErrorMessage(stdout, stderr)}`));
      });
      // A plugin that fails before reading its stdin closes the pipe; its exit says why.
      child.stdin.on('error', () => {});
      child.stdin.end(stdin);
    });
  }
}
