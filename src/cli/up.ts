// `berth up`: the API server on the embedded store, in the foreground.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { ApiServer } from '../apiserver/server.js';
import { adminKubeconfig, ensureCredentials, writeKubeconfig } from '../apiserver/pki.js';
import { SqliteStore } from '../store/sqlite/store.js';
import { Client } from '../client/client.js';
import { InProcessTransport } from '../client/transport.js';
import { GarbageCollector } from '../controllers/garbagecollector/controller.js';
import { NamespaceController } from '../controllers/namespace/controller.js';
import { StatefulSetController } from '../controllers/statefulset/controller.js';
import { NodeAgent } from '../node/agent.js';
import { apiLookups } from '../node/lookups.js';
import { NODE_ADDRESS } from '../node/nodestatus.js';
import { SimulatedRuntime } from '../node/runtime/simulated.js';
import type { Runtime } from '../node/runtime/types.js';
import { missingPrerequisites, RuncRuntime } from '../node/runtime/runc/runtime.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { LocalPathProvisioner } from '../volumes/localpath.js';
import { LoopProvisioner, loopDevicesAvailable } from '../volumes/loop.js';
import { VolumeController } from '../controllers/volume/controller.js';
import { berthStorageClasses, ensureStorageClasses } from './storageclasses.js';
import { writeNodeRecord } from './down.js';
import { claimPidFile } from './pidfile.js';

export interface UpOptions {
  dataDir: string;
  host: string;
  port: number;
  runtime: 'simulated' | 'runc' | 'none';
  nodeName: string;
  logLevel: string;
  /** The node's pod range; `--pod-cidr`. */
  podCidr: string;
  /** The pod bridge of the runc runtime; `--bridge`. */
  bridge: string;
  /** The first CrashLoopBackOff wait in seconds; `--restart-backoff`. The cap is 30 times it, as the kubelet's 10 s and 5 min. */
  restartBackoff: number;
  /** `--allow-privileged`. */
  allowPrivileged?: boolean;
  /** Mark `local-path` as the default StorageClass when creating it (`--no-default-storage-class`: not). */
  defaultStorageClass: boolean;
}

/** What `berth up` runs in process next to the API server. */
interface Component {
  start(): Promise<void>;
  stop(): void;
}

export async function up(opts: UpOptions): Promise<void> {
  const started = process.hrtime.bigint();
  const log = pino({ level: opts.logLevel, base: { component: 'berth' } }, pino.destination(2));
  if (opts.runtime === 'runc') {
    const missing = missingPrerequisites();
    if (missing.length) {
      process.stderr.write(`berth up --runtime runc needs ${missing.join(', ')}; --runtime simulated works without them\n`);
      process.exit(1);
    }
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  // One berth per data dir (they would share the store); `berth down` finds it by this file.
  const releasePidFile = claimPidFile(opts.dataDir);
  // What `berth down` needs to clean up after a berth that was killed.
  writeNodeRecord(opts.dataDir, { runtime: opts.runtime, podCIDR: opts.podCidr, bridge: opts.bridge });
  const credentials = await ensureCredentials(opts.dataDir, [opts.host]);
  const store = new SqliteStore(join(opts.dataDir, 'state.db'));
  // The node's runtime comes after the server; exec, attach, port-forward and logs reach it through this.
  let nodeRuntime: Runtime | undefined;
  const nodeConnector = (nodeName: string) => (nodeName === opts.nodeName ? nodeRuntime?.streams : undefined);
  const server = await ApiServer.start({ store, credentials, host: opts.host, port: opts.port, log: log.child({ component: 'apiserver' }), nodeConnector });
  const client = new Client(new InProcessTransport(server.handler));
  const loop = await loopDevicesAvailable();
  await ensureStorageClasses(client, berthStorageClasses({ defaultClass: opts.defaultStorageClass, loop }));
  const volumeOptions = { dataDir: opts.dataDir, nodeName: opts.nodeName };
  const provisioners = [new LocalPathProvisioner(volumeOptions), ...(loop ? [new LoopProvisioner(volumeOptions)] : [])];
  const controllers: Component[] = [
    new GarbageCollector(client, server.kinds, log.child({ component: 'garbage-collector' })),
    new NamespaceController(client, server.kinds, log.child({ component: 'namespace-controller' })),
    new StatefulSetController(client, log.child({ component: 'statefulset-controller' })),
    new VolumeController(client, provisioners, log.child({ component: 'persistentvolume-controller' })),
  ];
  // With `none` there is no node and no scheduler: pods stay Pending.
  let runc: RuncRuntime | undefined;
  if (opts.runtime === 'runc') {
    runc = new RuncRuntime({ dataDir: opts.dataDir, podCIDR: opts.podCidr, bridge: opts.bridge, hostIP: NODE_ADDRESS, log: log.child({ component: 'runc' }), lookups: apiLookups(client), backOff: { initialMs: opts.restartBackoff * 1000, maxMs: opts.restartBackoff * 30_000 }, allowPrivileged: !!opts.allowPrivileged });
    await runc.start();
  }
  if (opts.runtime !== 'none') {
    const runtime = runc ?? new SimulatedRuntime({ podCIDR: opts.podCidr, hostIP: NODE_ADDRESS });
    nodeRuntime = runtime;
    const node = { nodeName: opts.nodeName, address: NODE_ADDRESS, podCIDR: opts.podCidr, dataDir: opts.dataDir, runtime };
    controllers.push(new NodeAgent(client, node, log.child({ component: 'kubelet' })), new Scheduler(client, log.child({ component: 'scheduler' })));
  }
  await Promise.all(controllers.map((c) => c.start()));
  const address = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `https://${address}:${server.port}`;
  const kubeconfig = join(opts.dataDir, 'kubeconfig.yaml');
  writeKubeconfig(kubeconfig, adminKubeconfig(url, credentials));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`berth ready on ${url} (runtime ${opts.runtime}, ${ms.toFixed(0)} ms)\nexport KUBECONFIG=${kubeconfig}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    for (const c of controllers) c.stop();
    // The runc runtime's containers go with berth: their output pumps live in this process.
    await runc?.close().catch((err: unknown) => log.error({ err }, 'runc runtime cleanup failed'));
    await server.stop();
    await store.close();
    releasePidFile();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
