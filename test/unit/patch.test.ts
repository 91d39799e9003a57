import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { expectStatus } from '../helpers/status.js';
import {
  applyJSONPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  createMergePatch,
  createStrategicMergePatch,
  type PatchSchema,
} from '../../src/machinery/patch/index.js';

type Obj = Record<string, any>;

/** Freezes recursively, so any mutation of a patch input throws (test files are strict mode). */
function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const e of Object.values(v)) deepFreeze(e);
    Object.freeze(v);
  }
  return v;
}


const REJECTED = 'the server rejected our request due to an error in our request';

// ---------------------------------------------------------------------------------------------
// JSON patch

describe('applyJSONPatch', () => {
  const pod = (): Obj => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-0', labels: { app: 'web' }, annotations: { 'example.com/owner': 'team-a', 'a~b': '1' } },
    spec: { containers: [{ name: 'app', image: 'nginx:1.24' }, { name: 'sidecar', image: 'busybox' }] },
  });

  it('applies add, remove, replace, move, copy and test', () => {
    const doc = deepFreeze(pod());
    const patch = deepFreeze([
      { op: 'test', path: '/metadata/name', value: 'web-0' },
      { op: 'add', path: '/metadata/labels/tier', value: 'frontend' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.25' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'log', image: 'fluentd' } },
      { op: 'add', path: '/spec/containers/1', value: { name: 'init', image: 'alpine' } },
      { op: 'remove', path: '/spec/containers/2' },
      { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copied' },
      { op: 'move', from: '/metadata/labels/tier', path: '/metadata/annotations/tier' },
    ]);
    const out = applyJSONPatch(doc, patch) as Obj;
    assert.deepEqual(out.metadata.labels, { app: 'web', copied: 'web' });
    assert.equal(out.metadata.annotations.tier, 'frontend');
    assert.deepEqual(
      out.spec.containers.map((c: Obj) => c.name),
      ['app', 'init', 'log'],
    );
    assert.equal(out.spec.containers[0].image, 'nginx:1.25');
  });

  it('unescapes ~1 and ~0 in pointers', () => {
    const out = applyJSONPatch(pod(), [
      { op: 'replace', path: '/metadata/annotations/example.com~1owner', value: 'team-b' },
      { op: 'remove', path: '/metadata/annotations/a~0b' },
    ]) as Obj;
    assert.deepEqual(out.metadata.annotations, { 'example.com/owner': 'team-b' });
  });

  it('counts negative indices from the end, as kube-apiserver does', () => {
    const out = applyJSONPatch(pod(), [{ op: 'remove', path: '/spec/containers/-1' }]) as Obj;
    assert.deepEqual(
      out.spec.containers.map((c: Obj) => c.name),
      ['app'],
    );
  });

  it('lets replace set a key that does not exist (evanphx v4 behaviour)', () => {
    const out = applyJSONPatch(pod(), [{ op: 'replace', path: '/metadata/labels/new', value: 'x' }]) as Obj;
    assert.equal(out.metadata.labels.new, 'x');
  });

  it('treats a null patch as no operations', () => {
    assert.deepEqual(applyJSONPatch(pod(), null), pod());
  });

  it('stores a "__proto__" key as data', () => {
    const out = applyJSONPatch(pod(), [{ op: 'add', path: '/metadata/labels/__proto__', value: 'x' }]) as Obj;
    assert.ok(Object.hasOwn(out.metadata.labels, '__proto__'));
    assert.equal(Object.getPrototypeOf(out.metadata.labels), Object.prototype);
    assert.equal(JSON.parse(JSON.stringify(out)).metadata.labels.__proto__, 'x');
  });

  it('answers a failed operation with 422 and keeps the reason as the cause', () => {
    const cases: [unknown[], string][] = [
      [[{ op: 'remove', path: '/metadata/labels/missing' }], "error in remove for path: '/metadata/labels/missing': Unable to remove nonexistent key: missing: missing value"],
      [[{ op: 'test', path: '/metadata/name', value: 'other' }], 'testing value /metadata/name failed: test failed'],
      [[{ op: 'add', path: '/spec/nope/x', value: 1 }], 'add operation does not apply: doc is missing path: "/spec/nope/x": missing value'],
      [[{ op: 'replace', path: '/spec/containers/5', value: {} }], 'replace operation does not apply: doc is missing key: /spec/containers/5: missing value'],
      [[{ op: 'add', path: '/spec/containers/9', value: {} }], "error in add for path: '/spec/containers/9': Unable to access invalid index: 9: invalid index referenced"],
      [[{ op: 'frobnicate', path: '/x' }], 'Unexpected kind: frobnicate'],
      [[{ op: 'add', value: 1 }], 'add operation failed to decode path: missing value'],
      [[{ op: 'move', from: '/nope', path: '/x' }], "error in move for path: 'nope': Unable to remove nonexistent key: nope: missing value"],
      [[{ op: 'move', from: '/spec/nope/x', path: '/x' }], 'move operation does not apply: doc is missing from path: /spec/nope/x: missing value'],
      [[null], 'Unexpected kind: unknown'],
    ];
    for (const [patch, cause] of cases) {
      const err = expectStatus(() => applyJSONPatch(pod(), patch), 422, 'Invalid', REJECTED);
      assert.equal(err.cause, cause);
    }
  });

  it('answers a body that is not a list of operations with 400', () => {
    expectStatus(() => applyJSONPatch(pod(), { op: 'add' }), 400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    expectStatus(() => applyJSONPatch(pod(), ['add']), 400, 'BadRequest', 'json: cannot unmarshal string into Go value of type jsonpatch.Operation');
  });

  it('refuses more than 10000 operations with 413', () => {
    const patch = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/kind', value: 'Pod' }));
    expectStatus(
      () => applyJSONPatch(pod(), patch),
      413,
      'RequestEntityTooLarge',
      'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001',
    );
  });

  it('limits how much copy operations may grow the document', () => {
    const doc = { data: { a: 'x'.repeat(1024 * 1024) } };
    const patch = [1, 2, 3, 4].map((i) => ({ op: 'copy', from: '/data/a', path: `/data/c${i}` }));
    const err = expectStatus(() => applyJSONPatch(doc, patch), 422, 'Invalid');
    assert.match(String(err.cause), /^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/);
  });

  it('refuses to turn an object into something else', () => {
    expectStatus(() => applyJSONPatch(pod(), [{ op: 'replace', path: '', value: [1] }]), 422, 'Invalid');
  });
});

// ---------------------------------------------------------------------------------------------
// JSON merge patch

describe('applyMergePatch / createMergePatch', () => {
  const svc = (): Obj => ({
    metadata: { name: 'db', labels: { app: 'db', tier: 'backend' } },
    spec: { ports: [{ port: 5432 }], selector: { app: 'db' } },
  });

  it('merges objects, deletes on null and replaces arrays', () => {
    const out = applyMergePatch(
      deepFreeze(svc()),
      deepFreeze({ metadata: { labels: { tier: null, env: 'prod' } }, spec: { ports: [{ port: 5433 }] } }),
    );
    assert.deepEqual(out, {
      metadata: { name: 'db', labels: { app: 'db', env: 'prod' } },
      spec: { ports: [{ port: 5433 }], selector: { app: 'db' } },
    });
  });

  it('drops nulls inside added objects but keeps null array elements', () => {
    const out = applyMergePatch(svc(), { spec: { extra: { a: null, b: 1, list: [null, { c: null }] } } }) as Obj;
    assert.deepEqual(out.spec.extra, { b: 1, list: [null, {}] });
  });

  it('round-trips what kubectl label sends', () => {
    const before = deepFreeze(svc());
    const after: Obj = { ...svc(), metadata: { name: 'db', labels: { app: 'db', env: 'prod' } } };
    const patch = createMergePatch(before, after);
    assert.deepEqual(patch, { metadata: { labels: { env: 'prod', tier: null } } });
    assert.deepEqual(applyMergePatch(before, patch), after);
  });

  it('answers null or scalar patches with 400 and array patches with 422', () => {
    expectStatus(() => applyMergePatch(svc(), null), 400, 'BadRequest', 'Invalid JSON Patch');
    expectStatus(() => applyMergePatch(svc(), 'x'), 400, 'BadRequest', 'Invalid JSON Patch');
    expectStatus(() => applyMergePatch(svc(), [{ a: 1 }]), 422, 'Invalid');
  });
});

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

const ref = (name: string) => ({ $ref: `#/definitions/${name}` });
const SCHEMA: PatchSchema = {
  definitions: {
    'io.k8s.api.apps.v1.Deployment': {
      type: 'object',
      properties: { metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), spec: ref('io.k8s.api.apps.v1.DeploymentSpec') },
    },
    'io.k8s.api.apps.v1.DeploymentSpec': {
      type: 'object',
      properties: {
        replicas: { type: 'integer' },
        template: ref('io.k8s.api.core.v1.PodTemplateSpec'),
        // OpenAPI v3 style, to check allOf is followed and the extension read beside it.
        strategy: { allOf: [ref('io.k8s.api.apps.v1.DeploymentStrategy')], 'x-kubernetes-patch-strategy': 'retainKeys' },
      },
    },
    'io.k8s.api.apps.v1.DeploymentStrategy': {
      type: 'object',
      properties: { type: { type: 'string' }, rollingUpdate: { type: 'object' } },
    },
    'io.k8s.api.core.v1.PodTemplateSpec': {
      type: 'object',
      properties: { metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), spec: ref('io.k8s.api.core.v1.PodSpec') },
    },
    'io.k8s.api.core.v1.Pod': {
      type: 'object',
      properties: { metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), spec: ref('io.k8s.api.core.v1.PodSpec') },
    },
    'io.k8s.api.core.v1.PodSpec': {
      type: 'object',
      properties: {
        containers: {
          type: 'array',
          items: ref('io.k8s.api.core.v1.Container'),
          'x-kubernetes-patch-merge-key': 'name',
          'x-kubernetes-patch-strategy': 'merge',
        },
        volumes: {
          type: 'array',
          items: ref('io.k8s.api.core.v1.Volume'),
          'x-kubernetes-patch-merge-key': 'name',
          'x-kubernetes-patch-strategy': 'merge,retainKeys',
        },
        tolerations: { type: 'array', items: ref('io.k8s.api.core.v1.Toleration') },
        nodeSelector: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    'io.k8s.api.core.v1.Container': {
      type: 'object',
      properties: {
        name: { type: 'string' },
        image: { type: 'string' },
        args: { type: 'array', items: { type: 'string' } },
        ports: {
          type: 'array',
          items: ref('io.k8s.api.core.v1.ContainerPort'),
          'x-kubernetes-patch-merge-key': 'containerPort',
          'x-kubernetes-patch-strategy': 'merge',
        },
        env: {
          type: 'array',
          items: ref('io.k8s.api.core.v1.EnvVar'),
          'x-kubernetes-patch-merge-key': 'name',
          'x-kubernetes-patch-strategy': 'merge',
        },
        volumeMounts: {
          type: 'array',
          items: ref('io.k8s.api.core.v1.VolumeMount'),
          'x-kubernetes-patch-merge-key': 'mountPath',
          'x-kubernetes-patch-strategy': 'merge',
        },
      },
    },
    'io.k8s.api.core.v1.ContainerPort': { type: 'object', properties: { containerPort: { type: 'integer' }, name: { type: 'string' } } },
    'io.k8s.api.core.v1.EnvVar': { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' } } },
    'io.k8s.api.core.v1.VolumeMount': { type: 'object', properties: { name: { type: 'string' }, mountPath: { type: 'string' } } },
    'io.k8s.api.core.v1.Volume': {
      type: 'object',
      properties: { name: { type: 'string' }, emptyDir: { type: 'object' }, configMap: { type: 'object' }, persistentVolumeClaim: { type: 'object' } },
    },
    'io.k8s.api.core.v1.Toleration': { type: 'object', properties: { key: { type: 'string' }, operator: { type: 'string' } } },
    'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
      type: 'object',
      properties: {
        name: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
        finalizers: { type: 'array', items: { type: 'string' }, 'x-kubernetes-patch-strategy': 'merge' },
        ownerReferences: {
          type: 'array',
          items: ref('io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference'),
          'x-kubernetes-patch-merge-key': 'uid',
          'x-kubernetes-patch-strategy': 'merge',
        },
      },
    },
    'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference': {
      type: 'object',
      properties: { uid: { type: 'string' }, name: { type: 'string' }, controller: { type: 'boolean' } },
    },
  },
};
deepFreeze(SCHEMA);

const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';
const POD = 'io.k8s.api.core.v1.Pod';

function deployment(): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['a', 'b'] },
    spec: {
      replicas: 2,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'nginx:1.24',
              args: ['-g', 'daemon off;'],
              ports: [{ containerPort: 80 }],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: 'x' },
              ],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
            { name: 'sidecar', image: 'busybox' },
          ],
          volumes: [
            { name: 'data', emptyDir: {} },
            { name: 'cfg', configMap: { name: 'web-config' } },
          ],
          tolerations: [{ key: 'a', operator: 'Exists' }],
          nodeSelector: { zone: 'a' },
        },
      },
    },
  };
}

const smp = (doc: unknown, patch: unknown, root = DEPLOYMENT) => applyStrategicMergePatch(doc, patch, SCHEMA, root) as Obj;
const podSpecPatch = (spec: Obj) => ({ spec: { template: { spec } } });
const names = (list: Obj[]) => list.map((c) => c.name);

describe('applyStrategicMergePatch', () => {
  it('changes one container by name and keeps the rest (kubectl patch / set image)', () => {
    const doc = deepFreeze(deployment());
    const out = smp(doc, deepFreeze(podSpecPatch({ containers: [{ name: 'app', image: 'nginx:1.25' }] })));
    const [app, sidecar] = out.spec.template.spec.containers;
    assert.equal(app.image, 'nginx:1.25');
    assert.deepEqual(app.ports, [{ containerPort: 80 }]);
    assert.deepEqual(sidecar, { name: 'sidecar', image: 'busybox' });
    assert.equal(out.spec.replicas, 2);
  });

  it('puts containers new to the list before the existing ones, as the apiserver does', () => {
    const out = smp(deployment(), podSpecPatch({ containers: [{ name: 'log', image: 'fluentd' }] }));
    assert.deepEqual(names(out.spec.template.spec.containers), ['log', 'app', 'sidecar']);
  });

  it('merges nested lists by their own keys: ports, env and volumeMounts', () => {
    const out = smp(
      deployment(),
      podSpecPatch({
        containers: [
          {
            name: 'app',
            ports: [{ containerPort: 443, name: 'https' }],
            env: [{ name: 'A', value: '2' }],
            volumeMounts: [{ mountPath: '/data', readOnly: true }],
            args: ['-v'],
          },
        ],
      }),
    );
    const app = out.spec.template.spec.containers[0];
    assert.deepEqual(app.ports, [{ containerPort: 443, name: 'https' }, { containerPort: 80 }]);
    assert.deepEqual(app.env, [
      { name: 'A', value: '2' },
      { name: 'B', value: 'x' },
    ]);
    assert.deepEqual(app.volumeMounts, [{ name: 'data', mountPath: '/data', readOnly: true }]);
    // args has no patch strategy: replaced
    assert.deepEqual(app.args, ['-v']);
  });

  it('replaces lists without a strategy (tolerations)', () => {
    const out = smp(deployment(), podSpecPatch({ tolerations: [{ key: 'b', operator: 'Exists' }] }));
    assert.deepEqual(out.spec.template.spec.tolerations, [{ key: 'b', operator: 'Exists' }]);
  });

  it('merges maps and deletes keys set to null (labels)', () => {
    const out = smp(deployment(), { metadata: { labels: { app: null, tier: 'fe' } }, spec: { replicas: null } });
    assert.deepEqual(out.metadata.labels, { tier: 'fe' });
    assert.ok(!('replicas' in out.spec));
  });

  it('adds a pod template annotation (kubectl rollout restart)', () => {
    const at = '2024-01-01T00:00:00Z';
    const out = smp(deployment(), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } });
    assert.deepEqual(out.spec.template.metadata, { labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': at } });
  });

  it('drops nulls and directives from values it inserts', () => {
    const out = smp(deployment(), podSpecPatch({ hostname: 'h', dnsConfig: { nameservers: ['1.1.1.1'], options: null } }));
    assert.deepEqual(out.spec.template.spec.dnsConfig, { nameservers: ['1.1.1.1'] });
    const added = smp(deployment(), podSpecPatch({ containers: [{ name: 'new', image: 'x', command: null, env: [{ name: 'A', $patch: 'delete' }] }] }));
    assert.deepEqual(added.spec.template.spec.containers[0], { name: 'new', image: 'x', env: [{ name: 'A' }] });
  });

  describe('$patch', () => {
    it('delete removes a list element by merge key', () => {
      const out = smp(deployment(), podSpecPatch({ containers: [{ name: 'sidecar', $patch: 'delete' }] }));
      assert.deepEqual(names(out.spec.template.spec.containers), ['app']);
    });

    it('replace in a list makes the other elements the whole list', () => {
      const out = smp(deployment(), podSpecPatch({ containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] }));
      assert.deepEqual(out.spec.template.spec.containers, [{ name: 'only', image: 'x' }]);
    });

    it('replace and delete on a map', () => {
      const replaced = smp(deployment(), podSpecPatch({ nodeSelector: { $patch: 'replace', disk: 'ssd' } }));
      assert.deepEqual(replaced.spec.template.spec.nodeSelector, { disk: 'ssd' });
      const deleted = smp(deployment(), podSpecPatch({ nodeSelector: { $patch: 'delete' } }));
      assert.deepEqual(deleted.spec.template.spec.nodeSelector, {});
    });

    it('a map with a directive for a field the object lacks is dropped, as upstream does', () => {
      const out = smp(deployment(), podSpecPatch({ affinity: { $patch: 'replace', nodeAffinity: {} } }));
      assert.ok(!('affinity' in out.spec.template.spec));
    });

    it('rejects merge and unknown directives the way the apiserver does (500, library message)', () => {
      expectStatus(
        () => smp(deployment(), podSpecPatch({ containers: [{ name: 'app', $patch: 'merge' }] })),
        500,
        '',
        'merging lists cannot yet be specified in the patch',
      );
      expectStatus(
        () => smp(deployment(), podSpecPatch({ containers: [{ name: 'app', $patch: 'foo' }] })),
        500,
        '',
        'unknown patch type: foo in map: map[$patch:foo name:app]',
      );
      expectStatus(
        () => smp(deployment(), podSpecPatch({ nodeSelector: { $patch: 'merge' } })),
        500,
        '',
        'unknown patch type: merge in map: map[$patch:merge]',
      );
    });
  });

  describe('lists of primitives with strategy merge (finalizers)', () => {
    it('merges as a set, new values first', () => {
      assert.deepEqual(smp(deployment(), { metadata: { finalizers: ['b', 'c'] } }).metadata.finalizers, ['a', 'b', 'c']);
      assert.deepEqual(smp(deployment(), { metadata: { finalizers: ['c'] } }).metadata.finalizers, ['c', 'a', 'b']);
    });

    it('$deleteFromPrimitiveList removes values', () => {
      const out = smp(deployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } });
      assert.deepEqual(out.metadata.finalizers, ['b']);
      const none = smp({ metadata: { name: 'x' } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } });
      assert.deepEqual(none, { metadata: { name: 'x' } });
    });

    it('$setElementOrder sets the order of the result', () => {
      const out = smp(deployment(), { metadata: { '$setElementOrder/finalizers': ['b', 'a', 'c'], finalizers: ['c'] } });
      assert.deepEqual(out.metadata.finalizers, ['b', 'a', 'c']);
    });
  });

  it('merges ownerReferences by uid', () => {
    const doc = { metadata: { name: 'p', ownerReferences: [{ uid: '1', name: 'a', controller: true }] } };
    const out = smp(doc, { metadata: { ownerReferences: [{ uid: '1', controller: false }, { uid: '2', name: 'b' }] } }, POD);
    assert.deepEqual(out.metadata.ownerReferences, [
      { uid: '1', name: 'a', controller: false },
      { uid: '2', name: 'b' },
    ]);
  });

  it('applies a three-way patch as kubectl apply computes it', () => {
    const doc = deployment();
    doc.spec.template.spec.containers.push({ name: 'injected', image: 'proxy' }, { name: 'old', image: 'x' });
    const patch = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }],
            containers: [
              { name: 'app', image: 'nginx:1.25' },
              { name: 'old', $patch: 'delete' },
            ],
          },
        },
      },
    };
    const out = smp(deepFreeze(doc), deepFreeze(patch));
    // the order the directive asks for, with the server-only container kept after them
    assert.deepEqual(names(out.spec.template.spec.containers), ['sidecar', 'app', 'injected']);
    assert.equal(out.spec.template.spec.containers[1].image, 'nginx:1.25');
    assert.equal(out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], '{}');
  });

  describe('$retainKeys', () => {
    it('clears the fields of a retainKeys map that the patch does not list (deployment strategy)', () => {
      const out = smp(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } });
      assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
    });

    it('works on list elements (volume source switch)', () => {
      const out = smp(
        deployment(),
        podSpecPatch({ volumes: [{ name: 'data', $retainKeys: ['name', 'persistentVolumeClaim'], persistentVolumeClaim: { claimName: 'c' } }] }),
      );
      assert.deepEqual(out.spec.template.spec.volumes, [
        { name: 'data', persistentVolumeClaim: { claimName: 'c' } },
        { name: 'cfg', configMap: { name: 'web-config' } },
      ]);
    });

    it('rejects a patch that sets a field it does not retain', () => {
      expectStatus(
        () => smp(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: { maxSurge: 2 } } } }),
        400,
        'BadRequest',
        'invalid patch format of retainKeys',
      );
      expectStatus(() => smp(deployment(), { spec: { strategy: { $retainKeys: 'type' } } }), 400, 'BadRequest', 'invalid patch format of retainKeys');
    });
  });

  it('merges fields the schema does not describe as plain maps and replaced lists', () => {
    const doc = { metadata: { name: 'x' }, spec: { custom: { a: 1, b: 2 }, items: [{ name: 'a' }] } };
    const out = smp(doc, { spec: { custom: { b: null, c: 3 }, items: [{ name: 'b' }] } }, POD);
    assert.deepEqual(out.spec, { custom: { a: 1, c: 3 }, items: [{ name: 'b' }] });
  });

  it('treats a null patch as no change and refuses other non-objects with 400', () => {
    assert.deepEqual(smp(deployment(), null), deployment());
    expectStatus(() => smp(deployment(), []), 400, 'BadRequest', 'json: cannot unmarshal array into Go value of type map[string]interface {}');
    expectStatus(() => smp(deployment(), 'x'), 400, 'BadRequest', 'json: cannot unmarshal string into Go value of type map[string]interface {}');
  });

  it('answers malformed directives as the apiserver does', () => {
    expectStatus(() => smp(deployment(), { metadata: { $deleteFromPrimitiveList: ['a'] } }), 400, 'BadRequest', 'invalid patch format of primitive list');
    expectStatus(() => smp(deployment(), { metadata: { $setElementOrder: ['a'] } }), 400, 'BadRequest', 'invalid patch format of setElementOrder list');
    expectStatus(
      () => smp(deployment(), podSpecPatch({ containers: [{ image: 'x' }] })),
      500,
      '',
      'map: map[image:x] does not contain declared merge key: name',
    );
    expectStatus(
      () => smp(deployment(), podSpecPatch({ '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'new', image: 'x' }] })),
      500,
      '',
      "the order in patch list:\n[map[image:x name:new]]\n doesn't match $setElementOrder list:\n[map[name:app]]",
    );
    expectStatus(
      () => smp(deployment(), { metadata: { finalizers: [1] } }),
      500,
      '',
      'list element types are not identical: [[a b] [1]]',
    );
    expectStatus(() => smp({ metadata: { finalizers: [] } }, { metadata: { finalizers: [['a']] } }, POD), 422, 'Invalid', REJECTED);
    expectStatus(() => smp(deployment(), {}, 'io.k8s.api.core.v1.Nope'), 500, 'InternalError');
  });

  it('never mutates its inputs', () => {
    const doc = deepFreeze(deployment());
    const patches = [
      { metadata: { '$setElementOrder/finalizers': ['b', 'a'], '$deleteFromPrimitiveList/finalizers': ['x'], labels: { app: null } } },
      podSpecPatch({ containers: [{ name: 'sidecar', $patch: 'delete' }, { name: 'app', env: [{ name: 'B', $patch: 'delete' }] }] }),
      podSpecPatch({ volumes: [{ name: 'data', $retainKeys: ['name'] }], nodeSelector: { $patch: 'replace' } }),
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    ];
    for (const p of patches) {
      const before = JSON.stringify(p);
      smp(doc, deepFreeze(p));
      assert.equal(JSON.stringify(p), before);
    }
    assert.deepEqual(doc, deployment());
  });
});

describe('createStrategicMergePatch', () => {
  const create = (a: unknown, b: unknown) => createStrategicMergePatch(a, b, SCHEMA, DEPLOYMENT);

  function edited(change: (d: Obj) => void): Obj {
    const d = deployment();
    change(d);
    return d;
  }

  it('builds the patch kubectl set image sends', () => {
    const modified = edited((d) => (d.spec.template.spec.containers[0].image = 'nginx:1.25'));
    assert.deepEqual(create(deployment(), modified), {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }],
            containers: [{ name: 'app', image: 'nginx:1.25' }],
          },
        },
      },
    });
  });

  it('marks removed elements with $patch: delete and removed primitives with $deleteFromPrimitiveList', () => {
    const modified = edited((d) => {
      d.spec.template.spec.containers.pop();
      d.metadata.finalizers = ['a'];
    });
    assert.deepEqual(create(deployment(), modified), {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['b'], '$setElementOrder/finalizers': ['a'] },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }],
            containers: [{ $patch: 'delete', name: 'sidecar' }],
          },
        },
      },
    });
  });

  it('adds $retainKeys for retainKeys fields', () => {
    const modified = edited((d) => (d.spec.strategy = { type: 'Recreate' }));
    assert.deepEqual(create(deployment(), modified), {
      spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } },
    });
  });

  it('produces patches that turn the original into the modified object', () => {
    const changes: ((d: Obj) => void)[] = [
      (d) => (d.metadata.labels = { app: 'web', env: 'prod' }),
      (d) => delete d.metadata.labels,
      (d) => d.spec.template.spec.containers.reverse(),
      (d) => d.spec.template.spec.containers.unshift({ name: 'init', image: 'alpine' }),
      (d) => (d.spec.template.spec.containers[0].env = [{ name: 'B', value: 'y' }, { name: 'C', value: 'z' }]),
      (d) => (d.spec.template.spec.volumes[0] = { name: 'data', persistentVolumeClaim: { claimName: 'c' } }),
      (d) => (d.metadata.finalizers = ['c', 'b']),
      (d) => (d.spec.template.spec.tolerations = []),
      (d) => (d.spec.strategy = { type: 'Recreate' }),
    ];
    for (const change of changes) {
      const original = deepFreeze(deployment());
      const modified = deepFreeze(edited(change));
      const patch = create(original, modified);
      assert.deepEqual(smp(original, patch), modified, `patch ${JSON.stringify(patch)}`);
    }
  });

  it('is empty when nothing changed', () => {
    assert.deepEqual(create(deployment(), deployment()), {});
  });
});
