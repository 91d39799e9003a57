// What the API server's streaming subresources (pods/exec, pods/attach, pods/portforward,
// pods/log) need from the node that runs a pod. In Kubernetes the API server reaches the
// kubelet's server for these; in berth the agent runs in the same process, so the API server
// asks a NodeConnector for the node's ContainerStreams directly.
import type { Duplex, Readable, Writable } from 'node:stream';
import { EventEmitter } from 'node:events';
import type { Pod } from '../../api/core/pods.js';

export interface TerminalSize {
  width: number;
  height: number;
}

/** The client's terminal size: emits 'resize' on each change; `last` keeps the latest (kubectl sends one at once, maybe before the node listens). */
export class TerminalResize extends EventEmitter {
  last?: TerminalSize;

  set(size: TerminalSize): void {
    this.last = size;
    this.emit('resize', size);
  }
}

/** The client's side of an exec or attach session. */
export interface StreamIO {
  /** The client's stdin; ends when the client closes it. Absent unless the client asked for stdin. */
  stdin?: Readable;
  stdout?: Writable;
  /** Absent with a TTY (the terminal merges both outputs into stdout). */
  stderr?: Writable;
  tty: boolean;
  /** The client's terminal size and its changes (TTY only). */
  resize?: TerminalResize;
}

/** Why a stream could not be opened, in the words kubectl prints (e.g. `container not found ("x")`). */
export class StreamError extends Error {
  constructor(
    message: string,
    /** The HTTP status the API server answers with: 400 bad request, 404 not found, 500 otherwise. */
    readonly code: 400 | 404 | 500 = 500,
  ) {
    super(message);
  }
}

export interface ContainerStreams {
  /** Runs `command` in the running container; resolves with its exit code (128+signal when killed). */
  exec(pod: Pod, container: string, command: string[], io: StreamIO, signal?: AbortSignal): Promise<number>;
  /** Attaches to the container's main process until it ends or the client goes. */
  attach(pod: Pod, container: string, io: StreamIO, signal?: AbortSignal): Promise<void>;
  /** A TCP connection to `port` inside the pod's network namespace. */
  portForward(pod: Pod, port: number): Promise<Duplex>;
  /**
   * The CRI-format log file of the container's current instance, or with `previous` of the one
   * before it; throws StreamError (kubelet's words) when there is none.
   */
  logFile(pod: Pod, container: string, previous: boolean): Promise<string>;
}

/** How the API server finds the streams of the node a pod runs on; undefined for an unknown node. */
export type NodeConnector = (nodeName: string) => ContainerStreams | undefined;
