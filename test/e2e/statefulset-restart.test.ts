// Restarts all of `berth up` (SIGTERM or SIGKILL) at random points of
// rollouts and scalings, and checks from a watch that no two pods ever share
// an identity (ordinal, hostname, claim), and that the set converges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claims, eventually, getSet, pods, readyPods, recordPodEvents, rolloutStatus, setManifest, setSuite, sleep } from '../helpers/statefulset.js';

const suite = setSuite('restart');

/** A small seeded generator, so a failing run can be replayed with BERTH_TEST_SEED. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

test('restarts during rollouts and scaling: identities stay unique and the set converges', async (t) => {
  const seed = Number(process.env.BERTH_TEST_SEED ?? Date.now() % 100_000);
  t.diagnostic(`seed ${seed}`);
  const rand = random(seed);
  const ns = suite.namespace();
  const rec = recordPodEvents(suite.client, ns);
  await rec.ready;
  suite.b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 4 }));
  await readyPods(suite.b, ns, 'web', 4);

  // Live pods as the watch shows them, checked after every event.
  const live = new Map<string, { index: string; hostname: string }>();
  let checked = 0;
  const violations: string[] = [];
  const check = () => {
    for (; checked < rec.events.length; checked++) {
      const e = rec.events[checked];
      if (e.type === 'DELETED') live.delete(e.name);
      else live.set(e.name, { index: e.index ?? '', hostname: e.hostname ?? '' });
      const byIndex = new Map<string, string>();
      for (const [name, p] of live) {
        if (p.index !== name.replace(/^web-/, '') || p.hostname !== name) violations.push(`${name} has ordinal ${p.index}, hostname ${p.hostname}`);
        if (byIndex.has(p.index)) violations.push(`${name} and ${byIndex.get(p.index)} share ordinal ${p.index}`);
        byIndex.set(p.index, name);
      }
    }
  };

  const steps: [string, string[]][] = [
    ['update the image', ['set', 'image', 'sts/web', 'nginx=nginx:1.26']],
    ['scale to 6', ['scale', 'sts/web', '--replicas=6']],
    ['update the image again', ['set', 'image', 'sts/web', 'nginx=nginx:1.27']],
    ['scale to 2', ['scale', 'sts/web', '--replicas=2']],
    ['scale to 5', ['scale', 'sts/web', '--replicas=5']],
    ['roll back', ['rollout', 'undo', 'sts/web']],
  ];
  for (const [what, args] of steps) {
    suite.b.k([...args, '-n', ns]);
    await sleep(Math.floor(rand() * 400));
    const kill = rand() < 0.5;
    t.diagnostic(`${what}, then restart (${kill ? 'SIGKILL' : 'SIGTERM'})`);
    await suite.b.restart({ kill });
    check();
  }

  rolloutStatus(suite.b, ns, 'web', '120s');
  const final = await readyPods(suite.b, ns, 'web', 5, 'nginx:1.26', 60_000);
  const status = await eventually('status converged', () => {
    const s = getSet(suite.b, ns, 'web').status;
    return s.readyReplicas === 5 && s.updatedReplicas === 5 && s.currentRevision === s.updateRevision && s;
  });
  for (const [i, p] of final.entries()) {
    assert.equal(p.name, `web-${i}`);
    assert.equal(p.hostname, p.name);
    assert.equal(p.revision, status.updateRevision);
    assert.deepEqual(p.claims, [`www-web-${i}`]);
  }
  assert.deepEqual(
    claims(suite.b, ns).map((c) => c.name).slice(0, 5),
    ['www-web-0', 'www-web-1', 'www-web-2', 'www-web-3', 'www-web-4'],
  );
  await rec.settle();
  rec.stop();
  check();
  assert.deepEqual(violations, []);
  assert.equal(pods(suite.b, ns, 'web').length, 5);
});
