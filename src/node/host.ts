// Facts about the machine the node agent reports in its Node, read as the kubelet reads them
// (cadvisor's machine info, /etc/os-release, the machine and boot IDs). Files that a machine
// or a container lacks leave the field empty rather than failing.
import { readFileSync, statfsSync } from 'node:fs';
import { arch, availableParallelism, release, totalmem } from 'node:os';
import { goArch, type HostFacts } from './nodestatus.js';

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function osImage(): string {
  const line = read('/etc/os-release')
    .split('\n')
    .find((l) => l.startsWith('PRETTY_NAME='));
  return line ? line.slice('PRETTY_NAME='.length).replace(/^"(.*)"$/, '$1') : 'Linux';
}

function filesystemBytes(dir: string): number | undefined {
  try {
    const fs = statfsSync(dir);
    return fs.blocks * fs.bsize;
  } catch {
    return undefined;
  }
}

/** `dataDir`: where pods' data lives, whose filesystem is the node's ephemeral storage. */
export function readHostFacts(dataDir: string): HostFacts {
  return {
    cpus: availableParallelism(),
    memoryBytes: totalmem(),
    ephemeralStorageBytes: filesystemBytes(dataDir),
    arch: goArch(arch()),
    osImage: osImage(),
    kernelVersion: release(),
    machineID: read('/etc/machine-id'),
    systemUUID: read('/sys/class/dmi/id/product_uuid'),
    bootID: read('/proc/sys/kernel/random/boot_id'),
  };
}
