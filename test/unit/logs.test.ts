// The CRI log reader (node/logs.ts) and the streaming request checks (apiserver/streams/pod.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { LogFormatter, parseCriLine, parseTimeNanos, readLogs, tailStart, timestampOut } from '../../src/node/logs.js';
import { checkLogStatus, execParams, logParams, resolveContainer, streamTarget } from '../../src/apiserver/streams/pod.js';
import { exitStatus, parseResize } from '../../src/apiserver/streams/channels.js';
import type { Pod } from '../../src/api/core/pods.js';

const LOG = [
  '2026-01-01T00:00:01.5Z stdout F one',
  '2026-01-01T00:00:02Z stderr F two',
  '2026-01-01T00:00:03.123456789Z stdout P thr',
  '2026-01-01T00:00:03.2Z stdout F ee',
  '2026-01-01T00:00:04Z stdout F',
  '',
].join('\n');

const format = (opts: ConstructorParameters<typeof LogFormatter>[0], data = LOG) => new LogFormatter(opts).formatChunk(Buffer.from(data)).out.toString();

describe('CRI log records', () => {
  it('parses records, partial ones and empty content', () => {
    assert.deepEqual(parseCriLine(Buffer.from('2026-01-01T00:00:01Z stdout P a b ')), {
      time: '2026-01-01T00:00:01Z',
      stream: 'stdout',
      partial: true,
      content: Buffer.from('a b '),
    });
    assert.equal(parseCriLine(Buffer.from('2026-01-01T00:00:01Z stderr F'))?.content.length, 0);
    assert.equal(parseCriLine(Buffer.from('garbage')), undefined);
    assert.equal(parseCriLine(Buffer.from('t stdin F x')), undefined);
    assert.equal(parseCriLine(Buffer.from('t stdout X x')), undefined);
  });

  it('parses RFC 3339 times to nanoseconds', () => {
    assert.equal(parseTimeNanos('1970-01-01T00:00:01.000000002Z'), 1_000_000_002n);
    assert.equal(parseTimeNanos('1970-01-01T01:00:01+01:00'), 1_000_000_000n);
    assert.equal(parseTimeNanos('yesterday'), undefined);
  });

  it('formats as kubectl logs prints', () => {
    assert.equal(format({}), 'one\ntwo\nthree\n\n');
    // The kubelet's RFC3339NanoFixed, in UTC.
    assert.equal(format({ timestamps: true }), '2026-01-01T00:00:01.500000000Z one\n2026-01-01T00:00:02.000000000Z two\n2026-01-01T00:00:03.123456789Z thr2026-01-01T00:00:03.200000000Z ee\n2026-01-01T00:00:04.000000000Z \n');
    assert.equal(timestampOut('2026-11-23T19:02:10.0675504+01:00'), '2026-11-23T18:02:10.067550400Z');
    assert.equal(format({ limitBytes: 5 }), 'one\nt');
    assert.equal(format({ stream: 'stderr' }), 'two\n');
    assert.equal(format({ sinceNanos: parseTimeNanos('2026-01-01T00:00:03.15Z') }), 'ee\n\n');
  });

  it('finds where the last lines start', () => {
    const b = Buffer.from('a\nb\nc\n');
    assert.equal(tailStart(b, 1), 4);
    assert.equal(tailStart(b, 2), 2);
    assert.equal(tailStart(b, 5), 0);
    assert.equal(tailStart(b, 0), 6);
    assert.equal(tailStart(Buffer.from('a\nb'), 1), 2);
  });

  it('reads a file with tail, and follows it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-logs-'));
    try {
      const file = join(dir, 'c.log');
      // Big enough that the tail is looked for across blocks.
      const lines = Array.from({ length: 20_000 }, (_, i) => `2026-01-01T00:00:01Z stdout F line ${i}`);
      writeFileSync(file, lines.join('\n') + '\n');
      const collect = (out: PassThrough) => {
        let s = '';
        out.on('data', (c: Buffer) => (s += c.toString()));
        return () => s;
      };
      const out = new PassThrough();
      const got = collect(out);
      await readLogs(file, out, { tailLines: 3 });
      assert.equal(got(), 'line 19997\nline 19998\nline 19999\n');

      const follow = new PassThrough();
      const followed = collect(follow);
      let writing = true;
      const done = readLogs(file, follow, { tailLines: 0, follow: true, pollMs: 10, stillWriting: () => writing });
      await new Promise((r) => setTimeout(r, 100)); // the reader has opened the file and found its end
      appendFileSync(file, '2026-01-01T00:00:02Z stdout P new\n');
      appendFileSync(file, '2026-01-01T00:00:02Z stdout F er\n');
      const deadline = Date.now() + 5000;
      while (followed() !== 'newer\n' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(followed(), 'newer\n');
      writing = false;
      await done;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const pod = (status: unknown, spec: unknown = { containers: [{ name: 'app' }] }): Pod =>
  ({ metadata: { name: 'web-0' }, spec, status }) as unknown as Pod;

describe('streaming request checks', () => {
  it('addresses the streaming subresources of pods only', () => {
    assert.deepEqual(streamTarget('/api/v1/namespaces/ns/pods/web-0/exec'), { namespace: 'ns', name: 'web-0', subresource: 'exec' });
    assert.equal(streamTarget('/api/v1/namespaces/ns/pods/web-0/status'), undefined);
    assert.equal(streamTarget('/api/v1/namespaces/ns/services/x/exec'), undefined);
    assert.equal(streamTarget('/api/v1/namespaces/ns/pods/%zz/log'), undefined);
  });

  it('chooses the container as kube-apiserver does', () => {
    const two = pod({}, { containers: [{ name: 'a' }, { name: 'b' }], initContainers: [{ name: 'i' }] });
    assert.throws(() => resolveContainer(two, undefined), /a container name must be specified for pod web-0, choose one of: \[a b\] or one of the init containers: \[i\]/);
    assert.equal(resolveContainer(two, 'i'), 'i');
    assert.throws(() => resolveContainer(two, 'x'), /container x is not valid for pod web-0/);
    assert.equal(resolveContainer(pod({}), undefined), 'app');
  });

  it('words log status errors as the kubelet does', () => {
    const waiting = pod({ containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} }] });
    assert.throws(() => checkLogStatus(waiting, 'app', false), /container "app" in pod "web-0" is waiting to start: ContainerCreating/);
    assert.throws(() => checkLogStatus(waiting, 'app', true), /previous terminated container "app" in pod "web-0" not found/);
    assert.throws(() => checkLogStatus(pod({}), 'app', false), /container "app" in pod "web-0" is not available/);
    const restarted = pod({ containerStatuses: [{ name: 'app', state: { running: {} }, lastState: { terminated: { containerID: 'x://1' } } }] });
    checkLogStatus(restarted, 'app', true);
    checkLogStatus(restarted, 'app', false);
  });

  it('validates log and exec parameters', () => {
    const q = (s: string) => new URLSearchParams(s);
    assert.deepEqual(logParams(q('tailLines=2&timestamps=true&follow=1'), 'p'), {
      container: undefined, follow: true, previous: false, timestamps: true, tailLines: 2, limitBytes: undefined, sinceNanos: undefined,
    });
    assert.equal(logParams(q('sinceSeconds=10'), 'p', 100_000).sinceNanos, 90_000_000_000n);
    assert.equal(logParams(q('sinceTime=2026-01-01T00:00:00Z'), 'p').sinceNanos, parseTimeNanos('2026-01-01T00:00:00Z'));
    assert.throws(() => logParams(q('tailLines=-1'), 'p'), /tailLines: Invalid value: -1/);
    assert.throws(() => logParams(q('tailLines=x'), 'p'), /must be an integer/);
    assert.throws(() => logParams(q('sinceSeconds=1&sinceTime=2026-01-01T00:00:00Z'), 'p'), /at most one of/);
    assert.equal(logParams(q('stream=Stderr'), 'p').stream, 'stderr');
    assert.throws(() => logParams(q('stream=Stderr&tailLines=1'), 'p'), /tailLines: Forbidden/);
    assert.throws(() => logParams(q('stream=bogus'), 'p'), /Unsupported value/);
    assert.throws(() => execParams(q('command=ls'), true), /at least 1 of stdin, stdout, stderr/);
    assert.throws(() => execParams(q('stdout=true'), true), /at least one command/);
    assert.deepEqual(execParams(q('stdout=true&command=ls&command=-l&tty=true'), true).command, ['ls', '-l']);
  });

  it('encodes exit codes and decodes resizes', () => {
    assert.deepEqual(exitStatus(0, ['x']), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 0 });
    const failed = exitStatus(2, ['sh', '-c', 'exit 2']);
    assert.equal(failed.reason, 'NonZeroExitCode');
    assert.deepEqual(failed.details?.causes, [{ reason: 'ExitCode', message: '2' }]);
    assert.deepEqual(parseResize(Buffer.from('{"Width":80,"Height":24}')), { width: 80, height: 24 });
    assert.equal(parseResize(Buffer.from('{nope')), undefined);
    assert.equal(parseResize(Buffer.from('{"Width":"a"}')), undefined);
  });
});
