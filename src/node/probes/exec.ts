// Exec probes through the runtime's streams (the kubelet's prober runs them through the CRI's
// ExecSync): stdout and stderr combined, kept up to the kubelet's limit, and the command
// stopped when the probe's timeout passes.
import { Writable } from 'node:stream';
import type { Pod } from '../../api/core/pods.js';
import type { ContainerStreams } from '../streams/types.js';
import { MAX_OUTPUT_BYTES, type ExecRunner } from './check.js';

export function streamsExecRunner(streams: ContainerStreams, pod: Pod, container: string): ExecRunner {
  return async (command, timeoutMs) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const sink = new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (size < MAX_OUTPUT_BYTES) chunks.push(buf.subarray(0, MAX_OUTPUT_BYTES - size));
        size += buf.length;
        callback();
      },
    });
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const exitCode = await streams.exec(pod, container, command, { stdout: sink, stderr: sink, tty: false }, abort.signal);
      return { exitCode, output: Buffer.concat(chunks), timedOut: abort.signal.aborted };
    } catch (err) {
      // A command stopped by the timeout is a failure, whatever the runtime threw for it.
      if (abort.signal.aborted) return { exitCode: -1, output: Buffer.concat(chunks), timedOut: true };
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}
