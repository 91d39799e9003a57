// The berth command line.
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isDNS1123Subdomain } from '../machinery/validation.js';
import { nodeNameFromHostname, POD_CIDR } from '../node/nodestatus.js';
import { imageImport, imageList, imageRemove } from './images.js';
import { up, type UpOptions } from './up.js';
import { down, type DownOptions } from './down.js';

const defaultDataDir = process.env.BERTH_DATA_DIR ?? join(homedir(), '.berth');

function nodeName(value: string): string {
  const problems = isDNS1123Subdomain(value);
  if (problems.length) throw new InvalidArgumentError(`a node name must be a lowercase RFC 1123 subdomain: ${problems.join('; ')}`);
  return value;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is an integer from 0 to 65535');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a number of seconds above 0');
  return n;
}

const program = new Command('berth').description('Kubernetes StatefulSets, for real, on one machine');

program
  .command('up')
  .description('run berth in the foreground: the Kubernetes API on the embedded store')
  .option('--data-dir <dir>', 'where state, credentials and volumes live', defaultDataDir)
  .option('--host <address>', 'address the API server listens on', '127.0.0.1')
  .option('--port <n>', 'port of the API server (0: any free port)', port, 6443)
  .addOption(new Option('--runtime <runtime>', 'how pods run (none: no node, only the control plane)').choices(['simulated', 'runc', 'none']).default('runc'))
  .option('--node-name <name>', 'name of the node pods run on', nodeName, nodeNameFromHostname(hostname()))
  .option('--log-level <level>', 'fatal, error, warn, info, debug', 'info')
  .option('--pod-cidr <cidr>', "the node's pod range (Node.spec.podCIDR), inside 10.244.0.0/16", POD_CIDR)
  .option('--bridge <name>', 'the Linux bridge pod network namespaces join (runc runtime)', 'berth0')
  .option('--allow-privileged', 'let containers run privileged (securityContext.privileged); refused otherwise')
  .option('--restart-backoff <seconds>', "the first CrashLoopBackOff wait, doubling up to 30 times it (the kubelet's: 10, up to 300)", seconds, 10)
  .option('--no-default-storage-class', 'create the local-path StorageClass without marking it the default (claims without a class get none)')
  .action(async (opts: UpOptions) => {
    await up(opts);
  });

program
  .command('down')
  .description('stop the berth running on the data dir, and remove what a killed one left (containers, mounts, network namespaces, the pod bridge)')
  .option('--data-dir <dir>', 'the data dir of the berth to stop', defaultDataDir)
  .action(async (opts: DownOptions) => {
    await down(opts);
  });

const image = program.command('image').description('manage the local images pods run from');
const dataDirOption = (): Option => new Option('--data-dir <dir>', 'where state, credentials and images live').default(defaultDataDir);

image
  .command('import')
  .description('import a `docker save` archive or an OCI image-layout archive (plain or gzipped tar)')
  .argument('<file>', 'the archive')
  .addOption(dataDirOption())
  .action(imageImport);

image
  .command('ls')
  .alias('list')
  .description('list local images')
  .addOption(dataDirOption())
  .action(imageList);

image
  .command('rm')
  .description('remove images by reference or ID, and the layers no other image uses')
  .argument('<ref...>', 'references (busybox:1.36) or image IDs')
  .addOption(dataDirOption())
  .action(imageRemove);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
