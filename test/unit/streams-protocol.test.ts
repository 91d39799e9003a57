// The streaming subresources of pods (exec, attach, cp, port-forward, logs) driven by the real
// kubectl against an in-process API server whose node side is a fake ContainerStreams: no
// container runs, the fake echoes, writes to stderr and exits with the code it is told.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable, type Duplex } from 'node:stream';
import pino from 'pino';
import * as tar from 'tar';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket } from 'ws';
import { ApiServer } from '../../src/apiserver/server.js';
import { adminKubeconfig, ensureCredentials, writeKubeconfig } from '../../src/apiserver/pki.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { Pod } from '../../src/api/core/pods.js';
import { StreamError, type ContainerStreams, type StreamIO, type TerminalSize } from '../../src/node/streams/types.js';

const NODE = 'node-a';

interface Seen {
  command: string[];
  tty: boolean;
  resizes: TerminalSize[];
}

function readAll(r: Readable | undefined): Promise<Buffer> {
  return new Promise((resolve) => {
    if (!r) return resolve(Buffer.alloc(0));
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => resolve(Buffer.concat(chunks)));
    r.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

const write = (w: Writable | undefined, s: string | Buffer) => new Promise<void>((resolve) => (w ? w.write(s, () => resolve()) : resolve()));

class FakeStreams implements ContainerStreams {
  readonly seen: Seen[] = [];
  uploads: Buffer[] = [];

  constructor(
    private readonly logDir: string,
    private readonly echoPort: () => number,
    private readonly podFiles: string,
  ) {}

  async exec(_pod: Pod, _container: string, command: string[], io: StreamIO): Promise<number> {
    const seen: Seen = { command, tty: io.tty, resizes: [] };
    this.seen.push(seen);
    io.resize?.on('resize', (s: TerminalSize) => seen.resizes.push(s));
    switch (command[0]) {
      case 'cat':
        if (io.stdin) for await (const chunk of io.stdin) await write(io.stdout, chunk as Buffer);
        return 0;
      case 'fail':
        await write(io.stdout, 'out\n');
        await write(io.stderr, 'err\n');
        return Number(command[1]);
      case 'tty': {
        // Report what the session looks like once the terminal's size has come.
        const deadline = Date.now() + 5000;
        while (!seen.resizes.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const size = seen.resizes.at(-1);
        await write(io.stdout, `tty=${io.tty} stderr=${io.stderr !== undefined} size=${size?.width}x${size?.height}\r\n`);
        return 0;
      }
      case 'test':
        return command[1] === '-d' && command[2] === '/data' ? 0 : 1;
      case 'tar': {
        if (command.includes('-xmf') || command[1]?.includes('x')) {
          this.uploads.push(await readAll(io.stdin));
          return 0;
        }
        // tar cf - <path>: the archive of that path under podFiles.
        const path = command.at(-1)!.replace(/^\//, '');
        const stream = tar.c({ cwd: this.podFiles, portable: true }, [path]) as unknown as Readable;
        for await (const chunk of stream) await write(io.stdout, chunk as Buffer);
        return 0;
      }
      default:
        await write(io.stderr, `${command[0]}: not found\n`);
        return 127;
    }
  }

  async attach(_pod: Pod, _container: string, io: StreamIO): Promise<void> {
    await write(io.stdout, 'attached\n');
    if (io.stdin) for await (const chunk of io.stdin) await write(io.stdout, chunk as Buffer);
  }

  async portForward(_pod: Pod, port: number): Promise<Duplex> {
    if (port !== 7777) throw new Error(`dial tcp 127.0.0.1:${port}: connect: connection refused`);
    const sock = connect(this.echoPort(), '127.0.0.1');
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    return sock;
  }

  async logFile(_pod: Pod, container: string, previous: boolean): Promise<string> {
    const file = join(this.logDir, `${container}${previous ? '.prev' : ''}.log`);
    if (!existsSync(file)) throw new StreamError(`no log file for ${container}`, 404);
    return file;
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('pod streams through kubectl', () => {
  let dir: string;
  let server: ApiServer;
  let store: SqliteStore;
  let fake: FakeStreams;
  let echo: Server;
  let kubeconfig: string;
  const sockets = new Set<Socket>();

  const kubectl = (args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        'kubectl',
        args,
        { env: { ...process.env, KUBECONFIG: kubeconfig, ...opts.env }, timeout: opts.timeoutMs ?? 20_000, encoding: 'buffer', maxBuffer: 64 << 20 },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: stdout.toString(), stderr: stderr.toString() }),
      );
      if (opts.input !== undefined) child.stdin!.end(opts.input);
      else child.stdin!.end();
    });

  const request = async (method: string, path: string, body?: unknown) => {
    const res = await server.handler.handle({
      method,
      url: new URL(path, 'https://berth'),
      headers: { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
      body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
      user: 'test',
    });
    assert.ok('body' in res && res.status < 300, `${method} ${path}: ${'body' in res ? String(res.body) : res.status}`);
  };

  const running = (name: string) => ({
    name,
    image: 'busybox',
    imageID: 'sha256:0',
    containerID: `berth://${name}-2`,
    ready: true,
    restartCount: 1,
    started: true,
    state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
    lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: `berth://${name}-1`, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:00Z' } },
  });

  const createPod = async (name: string, containers: string[], status: unknown[], annotations?: Record<string, string>, nodeName: string = NODE) => {
    await request('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, ...(annotations ? { annotations } : {}) },
      spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
    });
    await request('PATCH', `/api/v1/namespaces/default/pods/${name}/status`, {
      status: { phase: nodeName ? 'Running' : 'Pending', containerStatuses: status },
    });
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-streams-'));
    const logDir = join(dir, 'logs');
    const podFiles = join(dir, 'podfs');
    mkdirSync(logDir);
    mkdirSync(join(podFiles, 'data'), { recursive: true });
    writeFileSync(join(podFiles, 'data', 'hello.txt'), 'hello from the pod\n');
    echo = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    fake = new FakeStreams(logDir, () => (echo.address() as { port: number }).port, podFiles);
    const credentials = await ensureCredentials(dir, ['127.0.0.1']);
    store = new SqliteStore(join(dir, 'state.db'));
    server = await ApiServer.start({
      store,
      credentials,
      host: '127.0.0.1',
      port: 0,
      log: pino({ level: 'silent' }),
      nodeConnector: (node) => (node === NODE ? fake : undefined),
    });
    kubeconfig = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, adminKubeconfig(`https://127.0.0.1:${server.port}`, credentials));

    await createPod('web-0', ['app'], [running('app')]);
    await createPod('multi', ['a', 'b'], [running('a'), running('b')]);
    await createPod('defaulted', ['a', 'b'], [running('a'), running('b')], { 'kubectl.kubernetes.io/default-container': 'b' });
    await createPod('waiting', ['app'], [{ name: 'app', image: 'busybox', imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} }]);
    await createPod('unbound', ['app'], [], undefined, '');
    await createPod('simulated', ['app'], [running('app')], undefined, 'elsewhere');

    const cri = (lines: [string, 'stdout' | 'stderr', 'F' | 'P', string][]) => lines.map((l) => l.join(' ') + '\n').join('');
    writeFileSync(
      join(logDir, 'app.log'),
      cri([
        ['2026-01-01T00:00:01.5Z', 'stdout', 'F', 'one'],
        ['2026-01-01T00:00:02Z', 'stderr', 'F', 'two'],
        ['2026-01-01T00:00:03.123456789Z', 'stdout', 'P', 'thr'],
        ['2026-01-01T00:00:03.2Z', 'stdout', 'F', 'ee'],
        ['2026-01-01T00:00:04Z', 'stdout', 'F', 'four'],
      ]),
    );
    writeFileSync(join(logDir, 'app.prev.log'), cri([['2025-12-31T23:59:59Z', 'stdout', 'F', 'before the restart']]));
    writeFileSync(join(logDir, 'a.log'), cri([['2026-01-01T00:00:01Z', 'stdout', 'F', 'from a']]));
    writeFileSync(join(logDir, 'b.log'), cri([['2026-01-01T00:00:01Z', 'stdout', 'F', 'from b']]));
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    echo?.close();
    await server?.stop();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // kubectl 1.32 speaks WebSockets; with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false it speaks SPDY.
  const transports: [string, Record<string, string>][] = [
    ['WebSockets', {}],
    ['SPDY', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }],
  ];
  for (const [transport, env] of transports) {
    it(`exec passes output, stderr and the exit code through (${transport})`, async () => {
      const ok = await kubectl(['exec', '-v=4', 'web-0', '--', 'fail', '0'], { env });
      assert.equal(ok.code, 0);
      assert.equal(ok.stdout, 'out\n');
      assert.equal(ok.stderr.replace(/^I\d{4} .*\n/gm, ''), 'err\n');
      assert.doesNotMatch(ok.stderr, /fallback/i);
      const bad = await kubectl(['exec', 'web-0', '--', 'fail', '3'], { env });
      assert.equal(bad.code, 3);
      assert.equal(bad.stdout, 'out\n');
      assert.equal(bad.stderr, 'err\ncommand terminated with exit code 3\n');
    });

    it(`exec -i streams stdin and ends with it (${transport})`, async () => {
      const input = Buffer.alloc(300_000, 'abcdefghij\n');
      const r = await kubectl(['exec', '-i', 'web-0', '--', 'cat'], { input, env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.length, input.length);
      assert.equal(r.stdout, input.toString());
    });

    it(`exec -it gives a TTY and its size (${transport})`, async () => {
      const before = fake.seen.length;
      const r = await new Promise<Run>((resolve) => {
        const child = spawn('script', ['-qec', `stty cols 123 rows 45; kubectl exec -it web-0 -- tty`, '/dev/null'], {
          env: { ...process.env, KUBECONFIG: kubeconfig, ...env },
        });
        let stdout = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
        const t = setTimeout(() => child.kill(), 20_000);
        child.on('close', (code) => {
          clearTimeout(t);
          resolve({ code: code ?? 1, stdout, stderr: '' });
        });
      });
      assert.match(r.stdout, /tty=true stderr=false size=123x45/);
      const seen = fake.seen.slice(before).find((s) => s.command[0] === 'tty');
      assert.ok(seen?.tty);
      assert.deepEqual(seen.resizes[0], { width: 123, height: 45 });
    });
  }

  it('exec errors are worded as Kubernetes words them', async () => {
    const unknown = await kubectl(['exec', 'web-0', '-c', 'nope', '--', 'fail', '0']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /container nope is not valid for pod web-0/);
    const waiting = await kubectl(['exec', 'waiting', '--', 'fail', '0']);
    assert.match(waiting.stderr, /unable to upgrade connection: container not found \("app"\)/);
    const unbound = await kubectl(['exec', 'unbound', '--', 'fail', '0']);
    assert.match(unbound.stderr, /pod unbound does not have a host assigned/);
    const missing = await kubectl(['exec', 'ghost', '--', 'fail', '0']);
    assert.match(missing.stderr, /pods "ghost" not found/);
    const sim = await kubectl(['exec', 'simulated', '--', 'fail', '0']);
    assert.match(sim.stderr, /simulated runtime/);
  });

  it('attach streams the container and stdin', async () => {
    const r = await kubectl(['attach', '-i', 'web-0'], { input: 'typed\n' });
    assert.match(r.stdout, /attached\n/);
  });

  it('cp copies both ways through tar', async () => {
    const out = join(dir, 'copied.txt');
    const down = await kubectl(['cp', 'web-0:/data/hello.txt', out]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(readFileSync(out, 'utf8'), 'hello from the pod\n');

    const src = join(dir, 'upload.txt');
    writeFileSync(src, 'going up\n');
    fake.uploads = [];
    const up = await kubectl(['cp', src, 'web-0:/data/upload.txt']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(fake.uploads.length, 1);
    const files: Record<string, string> = {};
    await new Promise<void>((resolve, reject) => {
      const parser = new tar.Parser({
        onReadEntry: (e) => {
          const chunks: Buffer[] = [];
          e.on('data', (c: Buffer) => chunks.push(c));
          e.on('end', () => (files[e.path] = Buffer.concat(chunks).toString()));
        },
      });
      parser.on('end', resolve);
      parser.on('error', reject);
      parser.end(fake.uploads[0]);
    });
    assert.deepEqual(Object.values(files), ['going up\n']);
  });

  it('port-forward carries TCP both ways, over WebSockets and over SPDY', async () => {
    for (const env of [{}, { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }]) {
      const child = spawn('kubectl', ['port-forward', '-v=4', 'pod/web-0', ':7777', ':9'], { env: { ...process.env, KUBECONFIG: kubeconfig, ...env } });
      let out = '';
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const ports = await new Promise<number[]>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ports: ${out} ${err}`)), 15_000);
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const found = [...out.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) ->/g)].map((m) => Number(m[1]));
          if (found.length === 2) {
            clearTimeout(t);
            resolve(found);
          }
        });
      });
      try {
        // Several connections, one big payload each, echoed back intact.
        const payload = Buffer.alloc(1 << 20, 'x');
        for (let i = 0; i < 3; i++) {
          const sock = connect(ports[0], '127.0.0.1');
          const got: Buffer[] = [];
          sock.on('data', (c: Buffer) => got.push(c));
          sock.write(payload);
          const deadline = Date.now() + 10_000;
          while (Buffer.concat(got).length < payload.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          sock.destroy();
          assert.equal(Buffer.concat(got).length, payload.length, `connection ${i} (${JSON.stringify(env)})`);
        }
        // A refused port: kubectl reports the node's error.
        const refused = connect(ports[1], '127.0.0.1');
        refused.on('error', () => {});
        const deadline = Date.now() + 10_000;
        while (!/an error occurred forwarding/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        refused.destroy();
        assert.match(err, /error forwarding port 9 to pod web-0, uid [\w-]+: dial tcp 127\.0\.0\.1:9: connect: connection refused/);
        // The WebSocket run must not have fallen back to SPDY.
        if (!('KUBECTL_PORT_FORWARD_WEBSOCKETS' in env)) assert.doesNotMatch(err, /fallback/i);
      } finally {
        child.kill();
      }
    }
  });

  it('logs: plain, tail, timestamps, limit-bytes, since-time, previous', async () => {
    assert.equal((await kubectl(['logs', 'web-0'])).stdout, 'one\ntwo\nthree\nfour\n');
    assert.equal((await kubectl(['logs', 'web-0', '--tail=2'])).stdout, 'ee\nfour\n');
    assert.equal(
      (await kubectl(['logs', 'web-0', '--timestamps', '--tail=1'])).stdout,
      '2026-01-01T00:00:04.000000000Z four\n',
    );
    assert.equal((await kubectl(['logs', 'web-0', '--limit-bytes=6'])).stdout, 'one\ntw');
    assert.equal((await kubectl(['logs', 'web-0', '--since-time=2026-01-01T00:00:02Z'])).stdout, 'two\nthree\nfour\n');
    assert.equal((await kubectl(['logs', 'web-0', '--since=1h'])).stdout, '');
    assert.equal((await kubectl(['logs', 'web-0', '--previous'])).stdout, 'before the restart\n');
    assert.equal((await kubectl(['logs', 'web-0', '-c', 'app'])).stdout, 'one\ntwo\nthree\nfour\n');
  });

  it('logs: several containers, the default container, errors', async () => {
    assert.equal((await kubectl(['logs', 'multi', '-c', 'b'])).stdout, 'from b\n');
    assert.equal((await kubectl(['logs', 'defaulted'])).stdout, 'from b\n');
    // kubectl picks the first container itself; the API's own error is for raw requests (below).
    assert.deepEqual(await kubectl(['logs', 'multi']), { code: 0, stdout: 'from a\n', stderr: 'Defaulted container "a" out of: a, b\n' });
    const waiting = await kubectl(['logs', 'waiting']);
    assert.match(waiting.stderr, /container "app" in pod "waiting" is waiting to start: ContainerCreating/);
    const prev = await kubectl(['logs', 'multi', '-c', 'a', '--previous']);
    assert.match(prev.stderr, /no log file for a/);
    const none = await kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/multi/log']);
    assert.match(none.stderr, /a container name must be specified for pod multi, choose one of: \[a b\]/);
  });

  it('discovery lists the streaming subresources', async () => {
    const r = await kubectl(['get', '--raw', '/api/v1']);
    const names = (JSON.parse(r.stdout) as { resources: { name: string; kind: string; verbs: string[] }[] }).resources
      .filter((x) => x.name.startsWith('pods/'))
      .map((x) => `${x.name}:${x.kind}:${x.verbs.join(',')}`);
    assert.deepEqual(names, [
      'pods/attach:PodAttachOptions:create,get',
      'pods/binding:Binding:create',
      'pods/exec:PodExecOptions:create,get',
      'pods/log:Pod:get',
      'pods/portforward:PodPortForwardOptions:create,get',
      'pods/status:Pod:get,patch,update',
    ]);
  });

  it('survives malformed requests and frames', async () => {
    const creds = readFileSync(kubeconfig, 'utf8');
    const field = (k: string) => Buffer.from(new RegExp(`${k}: (\\S+)`).exec(creds)![1], 'base64');
    const tls = { ca: field('certificate-authority-data'), cert: field('client-certificate-data'), key: field('client-key-data') };
    const base = `wss://127.0.0.1:${server.port}/api/v1/namespaces/default/pods/web-0`;
    // Frames that mean nothing: empty, unknown channels, bad resize JSON, CLOSE of unknown streams.
    const ws = new WebSocket(`${base}/exec?command=cat&stdin=true&stdout=true&tty=true`, ['v5.channel.k8s.io'], tls);
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    const got: Buffer[] = [];
    ws.on('message', (m: Buffer) => got.push(m));
    for (const f of [[], [9, 1, 2], [4, 0x7b], [4], [255], [255, 7], [0, 0x68, 0x69]]) ws.send(Buffer.from(f));
    ws.send('text frame');
    ws.send(Buffer.from([255, 0]));
    const closed = await new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    assert.equal(closed, 1000);
    assert.deepEqual(got.map((m) => m[0]), [1, 3]);
    assert.equal(got[0].subarray(1).toString(), 'hi');
    // Missing and bad parameters, unknown protocols: answered, not crashed.
    const refused = async (url: string, protocols: string[]) =>
      new Promise<number>((resolve) => {
        // ws refuses to offer a subprotocol with a '/' (SPDY/3.1+portforward.k8s.io): send it as a header.
        const w = new WebSocket(url, { ...tls, headers: { 'Sec-WebSocket-Protocol': protocols.join(', ') } });
        w.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        w.on('error', () => resolve(-1));
      });
    assert.equal(await refused(`${base}/exec?stdout=true`, ['v5.channel.k8s.io']), 400);
    assert.equal(await refused(`${base}/exec?command=x`, ['v5.channel.k8s.io']), 400);
    assert.equal(await refused(`${base}/exec?command=x&stdout=1`, ['v1.channel.k8s.io']), 400);
    assert.equal(await refused(`${base}/portforward?ports=notaport`, ['SPDY/3.1+portforward.k8s.io']), 400);
    assert.equal(await refused(`${base}/log`, ['v5.channel.k8s.io']), 400);
    // Garbage inside an upgraded SPDY session.
    const sock = tlsConnect({ host: '127.0.0.1', port: server.port, ...tls });
    await new Promise<void>((resolve) => sock.once('secureConnect', resolve));
    sock.on('error', () => {});
    sock.write('POST /api/v1/namespaces/default/pods/web-0/portforward HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n');
    sock.write(Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5]));
    sock.write(Buffer.alloc(4096, 0xab));
    await new Promise((r) => setTimeout(r, 200));
    sock.destroy();
    // Still serving.
    assert.equal((await kubectl(['exec', 'web-0', '--', 'fail', '0'])).code, 0);
  });

  it('logs -f follows until the client goes', async () => {
    const file = join(dir, 'logs', 'b.log');
    const child = spawn('kubectl', ['logs', '-f', 'multi', '-c', 'b'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const waitFor = async (s: string) => {
      const deadline = Date.now() + 10_000;
      while (!out.includes(s) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(out.includes(s), out);
    };
    await waitFor('from b\n');
    writeFileSync(file, '2026-01-01T00:00:05Z stdout P more \n2026-01-01T00:00:05Z stdout F later\n', { flag: 'a' });
    await waitFor('more later\n');
    child.kill();
  });
});
