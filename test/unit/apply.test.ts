import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { KubeObject } from '../../src/api/types.js';
import { expectStatus } from '../helpers/status.js';
import { getSchema } from '../../src/machinery/schema.js';
import {
  FieldSet,
  LAST_APPLIED_ANNOTATION,
  fieldManagerErrors,
  managerFromUserAgent,
  recordUpdate,
  serverSideApply,
  type ApplyOptions,
  type ApplySchema,
} from '../../src/machinery/apply/index.js';
import { decodePathElement, encodePathElement, pathString } from '../../src/machinery/apply/fieldset.js';

type Obj = Record<string, any>;

const STS = 'io.k8s.api.apps.v1.StatefulSet';
const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T11:00:00Z';
const T2 = '2024-05-01T12:00:00Z';

const common = { schema: getSchema(), definition: STS, apiVersion: 'apps/v1' };

function apply(live: Obj | undefined, config: Obj, manager: string, extra: Partial<ApplyOptions> = {}): Obj {
  return serverSideApply(live as KubeObject | undefined, config, { ...common, manager, force: false, now: T0, ...extra });
}

function update(old: Obj | undefined, next: Obj, manager: string, now = T1, extra: Obj = {}): Obj {
  recordUpdate(old as KubeObject | undefined, next as KubeObject, { ...common, manager, now, ...extra });
  return next;
}

/** What the server does after an apply or create: it gives the object its identity. */
function stored(o: Obj): Obj {
  const c = structuredClone(o);
  c.metadata.uid ??= 'a3b1c2d4-0000-4000-8000-000000000001';
  return c;
}

function statefulSet(opts: { replicas?: number; containers?: Obj[]; labels?: Obj; serviceName?: string } = {}): Obj {
  const spec: Obj = {};
  if (opts.replicas !== undefined) spec.replicas = opts.replicas;
  if (opts.serviceName !== undefined) spec.serviceName = opts.serviceName;
  spec.selector = { matchLabels: { app: 'web' } };
  spec.template = {
    metadata: { labels: { app: 'web' } },
    spec: { containers: opts.containers ?? [{ name: 'nginx', image: 'nginx:1.25' }] },
  };
  const metadata: Obj = { name: 'web', namespace: 'default' };
  if (opts.labels) metadata.labels = opts.labels;
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata, spec };
}

function entries(o: Obj): Obj[] {
  return o.metadata.managedFields ?? [];
}

function entry(o: Obj, manager: string, operation?: string): Obj | undefined {
  return entries(o).find((e) => e.manager === manager && (!operation || e.operation === operation));
}

/** The paths a manager owns, as conflict messages print them. */
function owned(o: Obj, manager: string, operation?: string): string[] {
  const e = entry(o, manager, operation);
  return e ? FieldSet.fromFieldsV1(e.fieldsV1).paths().map(pathString) : [];
}


describe('FieldsV1', () => {
  // What kube-controller-manager and kubectl write for a StatefulSet, in Kubernetes' key order.
  const statefulSetFields = {
    'f:metadata': {
      'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} },
      'f:finalizers': { '.': {}, 'v:"example.com/protect"': {} },
      'f:labels': { '.': {}, 'f:app': {} },
    },
    'f:spec': {
      'f:persistentVolumeClaimRetentionPolicy': { '.': {}, 'f:whenDeleted': {}, 'f:whenScaled': {} },
      'f:podManagementPolicy': {},
      'f:replicas': {},
      'f:selector': {},
      'f:serviceName': {},
      'f:template': {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': {
          'f:containers': {
            'k:{"name":"nginx"}': {
              '.': {},
              'f:image': {},
              'f:name': {},
              'f:ports': {
                '.': {},
                'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {}, 'f:protocol': {} },
                'k:{"containerPort":443,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} },
              },
              'f:resources': {},
              'f:volumeMounts': { '.': {}, 'k:{"mountPath":"/usr/share/nginx/html"}': { '.': {}, 'f:mountPath': {}, 'f:name': {} } },
            },
          },
          'f:dnsPolicy': {},
          'f:securityContext': {},
        },
      },
      'f:updateStrategy': { 'f:rollingUpdate': { '.': {}, 'f:partition': {} }, 'f:type': {} },
      'f:volumeClaimTemplates': {},
    },
  };

  it('decodes and re-encodes a StatefulSet field set byte for byte', () => {
    const set = FieldSet.fromFieldsV1(statefulSetFields);
    assert.equal(JSON.stringify(set.toFieldsV1()), JSON.stringify(statefulSetFields));
  });

  it('writes keys in Kubernetes order whatever order they were read in', () => {
    const scrambled = {
      'f:spec': {
        'f:template': {
          'f:spec': {
            'f:containers': {
              'k:{"name":"nginx"}': {
                'f:ports': {
                  'k:{"protocol":"TCP","containerPort":443}': { 'f:protocol': {}, '.': {}, 'f:containerPort': {} },
                  'k:{"containerPort":80,"protocol":"TCP"}': { 'f:name': {}, 'f:protocol': {}, 'f:containerPort': {}, '.': {} },
                  '.': {},
                },
                'f:name': {},
                '.': {},
              },
            },
          },
        },
        'f:replicas': {},
      },
    };
    const out = FieldSet.fromFieldsV1(scrambled).toFieldsV1();
    // Numbers in keys order numerically (80 before 443), key fields by name, "." first.
    assert.equal(
      JSON.stringify(out),
      JSON.stringify({
        'f:spec': {
          'f:replicas': {},
          'f:template': {
            'f:spec': {
              'f:containers': {
                'k:{"name":"nginx"}': {
                  '.': {},
                  'f:name': {},
                  'f:ports': {
                    '.': {},
                    'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {}, 'f:protocol': {} },
                    'k:{"containerPort":443,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} },
                  },
                },
              },
            },
          },
        },
      }),
    );
  });

  it('names paths as conflict messages do', () => {
    const paths = FieldSet.fromFieldsV1(statefulSetFields).paths().map(pathString);
    assert.ok(paths.includes('.spec.replicas'));
    assert.ok(paths.includes('.metadata.finalizers[="example.com/protect"]'));
    assert.ok(paths.includes('.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].name'));
    assert.ok(paths.includes('.spec.template.spec.containers[name="nginx"]'));
    // A node that only has children (spec) is not itself a member.
    assert.ok(!paths.includes('.spec'));
    // Members of a node come before the paths below its children.
    assert.ok(paths.indexOf('.spec.replicas') < paths.indexOf('.spec.template.metadata.labels'));
  });

  it('encodes every kind of path element', () => {
    for (const key of ['f:name', 'k:{"containerPort":80,"protocol":"TCP"}', 'v:"a"', 'v:5', 'i:3']) {
      assert.equal(encodePathElement(decodePathElement(key)), key);
    }
    assert.throws(() => decodePathElement('x:1'));
    assert.throws(() => FieldSet.fromFieldsV1({ 'f:a': 'no' }));
  });

  it('has set operations with structured-merge-diff semantics', () => {
    const a = FieldSet.fromFieldsV1({ 'f:spec': { 'f:replicas': {}, 'f:template': { 'f:x': {} } } });
    const b = FieldSet.fromFieldsV1({ 'f:spec': { 'f:template': {} } });
    assert.deepEqual(a.difference(b).paths().map(pathString), ['.spec.replicas', '.spec.template.x']);
    assert.deepEqual(a.recursiveDifference(b).paths().map(pathString), ['.spec.replicas']);
    assert.deepEqual(a.intersection(b).paths(), []);
    assert.ok(a.union(b).has(decodePath(['f:spec', 'f:template'])));
  });
});

function decodePath(keys: string[]) {
  return keys.map(decodePathElement);
}

describe('serverSideApply', () => {
  it('creates the object, and the manager owns exactly the fields it applied', () => {
    const config = statefulSet({ replicas: 3, labels: { app: 'web' }, containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80, name: 'web' }] }] });
    const out = apply(undefined, config, 'deployer');
    const { managedFields, ...metadata } = out.metadata;
    assert.deepEqual({ ...out, metadata }, config);
    assert.deepEqual(managedFields, [
      {
        manager: 'deployer',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    // The port's protocol key defaults to TCP, as Kubernetes' schema declares.
                    'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it('does not modify its inputs', () => {
    const config = statefulSet({ replicas: 1 });
    const live = stored(apply(undefined, config, 'a'));
    const liveCopy = structuredClone(live);
    const configCopy = structuredClone(config);
    apply(live, statefulSet({ replicas: 1, serviceName: 'web' }), 'a');
    assert.deepEqual(live, liveCopy);
    assert.deepEqual(config, configCopy);
  });

  it('removes a field the manager applied before and applies no more', () => {
    const v1 = stored(apply(undefined, statefulSet({ replicas: 3, serviceName: 'web', labels: { app: 'web', tier: 'db' } }), 'deployer'));
    const v2 = apply(v1, statefulSet({ replicas: 3, labels: { app: 'web' } }), 'deployer', { now: T1 });
    assert.equal(v2.spec.serviceName, undefined);
    assert.deepEqual(v2.metadata.labels, { app: 'web' });
    assert.ok(!owned(v2, 'deployer').includes('.spec.serviceName'));
    assert.equal(entry(v2, 'deployer')!.time, T1);
    // Dropping every label removes the map.
    const v3 = apply(stored(v2), statefulSet({ replicas: 3 }), 'deployer');
    assert.equal(v3.metadata.labels, undefined);
  });

  it('keeps a dropped field that another manager also owns', () => {
    const v1 = stored(apply(undefined, statefulSet({ replicas: 3, serviceName: 'web' }), 'a'));
    const v2 = stored(apply(v1, statefulSet({ serviceName: 'web' }), 'b'));
    assert.ok(owned(v2, 'a').includes('.spec.serviceName'));
    assert.ok(owned(v2, 'b').includes('.spec.serviceName'));
    const v3 = apply(v2, statefulSet({ replicas: 3 }), 'a');
    assert.equal(v3.spec.serviceName, 'web');
    assert.ok(!owned(v3, 'a').includes('.spec.serviceName'));
  });

  it('keeps a dropped field a later update changed', () => {
    const v1 = stored(apply(undefined, statefulSet({ replicas: 3, serviceName: 'web' }), 'a'));
    const edited = structuredClone(v1);
    edited.spec.serviceName = 'web-headless';
    update(v1, edited, 'kubectl-edit');
    const v2 = apply(edited, statefulSet({ replicas: 3 }), 'a');
    assert.equal(v2.spec.serviceName, 'web-headless');
  });

  it('fails when two managers apply different values to the same field, unless forced', () => {
    const v1 = stored(apply(undefined, statefulSet({ replicas: 3 }), 'deployer'));
    const err = expectStatus(
      () => apply(v1, statefulSet({ replicas: 5 }), 'autoscaler'),
      409,
      'Conflict',
      'Apply failed with 1 conflict: conflict with "deployer": .spec.replicas',
    );
    assert.deepEqual(err.details, {
      causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "deployer"', field: '.spec.replicas' }],
    });
    assert.equal(err.toStatus().code, 409);

    const forced = apply(v1, statefulSet({ replicas: 5 }), 'autoscaler', { force: true });
    assert.equal(forced.spec.replicas, 5);
    assert.ok(owned(forced, 'autoscaler').includes('.spec.replicas'));
    assert.ok(!owned(forced, 'deployer').includes('.spec.replicas'));
    // The rest of the template is shared: both applied the same values.
    assert.ok(owned(forced, 'deployer').includes('.spec.template.spec.containers[name="nginx"].image'));
    assert.ok(owned(forced, 'autoscaler').includes('.spec.template.spec.containers[name="nginx"].image'));
  });

  it('shares a field two managers apply with the same value', () => {
    const v1 = stored(apply(undefined, statefulSet({ replicas: 3 }), 'a'));
    const v2 = apply(v1, statefulSet({ replicas: 3 }), 'b');
    assert.ok(owned(v2, 'a').includes('.spec.replicas'));
    assert.ok(owned(v2, 'b').includes('.spec.replicas'));
    // A no-op apply leaves the object as it was and records no time for the new manager.
    const { managedFields: _a, ...m1 } = v1.metadata;
    const { managedFields: _b, ...m2 } = v2.metadata;
    assert.deepEqual({ ...v2, metadata: m2 }, { ...v1, metadata: m1 });
    assert.equal(entry(v2, 'b')!.time, undefined);
  });

  it('lists every conflict, grouped by manager', () => {
    const v1 = stored(apply(undefined, statefulSet({ replicas: 3 }), 'deployer'));
    const edited = structuredClone(v1);
    edited.spec.serviceName = 'web';
    update(v1, edited, 'kubectl-edit');
    const err = expectStatus(
      () => apply(edited, statefulSet({ replicas: 4, serviceName: 'db', containers: [{ name: 'nginx', image: 'nginx:1.26' }] }), 'ci'),
      409,
      'Conflict',
      [
        'Apply failed with 3 conflicts: conflicts with "deployer":',
        '- .spec.replicas',
        '- .spec.template.spec.containers[name="nginx"].image',
        'conflicts with "kubectl-edit" using apps/v1:',
        '- .spec.serviceName',
      ].join('\n'),
    );
    assert.deepEqual(
      err.details?.causes?.map((c) => [c.message, c.field]),
      [
        ['conflict with "deployer"', '.spec.replicas'],
        ['conflict with "deployer"', '.spec.template.spec.containers[name="nginx"].image'],
        ['conflict with "kubectl-edit" using apps/v1', '.spec.serviceName'],
      ],
    );
  });

  it('conflicts with a field someone changed by an update', () => {
    const v1 = stored(apply(undefined, statefulSet({ replicas: 3 }), 'deployer'));
    const scaled = structuredClone(v1);
    scaled.spec.replicas = 7;
    update(v1, scaled, 'kubectl-client-side-apply');
    expectStatus(
      () => apply(scaled, statefulSet({ replicas: 3 }), 'deployer'),
      409,
      'Conflict',
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    );
    // The same apply without replicas goes through, and leaves the updater's value alone.
    const out = apply(scaled, statefulSet({}), 'deployer');
    assert.equal(out.spec.replicas, 7);
  });

  it('merges containers by name: two managers each own one', () => {
    const v1 = stored(apply(undefined, statefulSet({ containers: [{ name: 'app', image: 'app:1' }] }), 'app-team'));
    const v2 = stored(apply(v1, statefulSet({ containers: [{ name: 'sidecar', image: 'proxy:1' }] }), 'mesh'));
    assert.deepEqual(v2.spec.template.spec.containers, [
      { name: 'app', image: 'app:1' },
      { name: 'sidecar', image: 'proxy:1' },
    ]);
    assert.ok(owned(v2, 'app-team').includes('.spec.template.spec.containers[name="app"]'));
    assert.ok(!owned(v2, 'app-team').some((p) => p.includes('sidecar')));
    assert.ok(owned(v2, 'mesh').includes('.spec.template.spec.containers[name="sidecar"].image'));
    assert.ok(!owned(v2, 'mesh').some((p) => p.includes('"app"')));

    // Each updates its own container without conflict.
    const v3 = stored(apply(v2, statefulSet({ containers: [{ name: 'app', image: 'app:2' }] }), 'app-team'));
    assert.deepEqual(v3.spec.template.spec.containers.map((c: Obj) => c.image), ['app:2', 'proxy:1']);
    // Changing the other's container conflicts.
    expectStatus(
      () => apply(v3, statefulSet({ containers: [{ name: 'sidecar', image: 'proxy:2' }] }), 'app-team'),
      409,
      'Conflict',
      'Apply failed with 1 conflict: conflict with "mesh": .spec.template.spec.containers[name="sidecar"].image',
    );
    // The mesh stops applying its sidecar: it goes, the app container stays.
    const v4 = apply(v3, { ...statefulSet(), spec: { selector: { matchLabels: { app: 'web' } } } }, 'mesh');
    assert.deepEqual(v4.spec.template.spec.containers, [{ name: 'app', image: 'app:2' }]);
  });

  it('keeps the configuration order for the items it names and other items in place', () => {
    const containers = ['a', 'b', 'c'].map((name) => ({ name, image: `${name}:1` }));
    const v1 = stored(apply(undefined, statefulSet({ containers }), 'x'));
    const v2 = apply(v1, statefulSet({ containers: [{ name: 'c', image: 'c:1' }, { name: 'a', image: 'a:1' }] }), 'y');
    assert.deepEqual(v2.spec.template.spec.containers.map((c: Obj) => c.name), ['b', 'c', 'a']);
  });

  it('attributes the fields of an untracked object to before-first-apply', () => {
    const untracked = stored(statefulSet({ replicas: 2 }));
    expectStatus(
      () => apply(untracked, statefulSet({ replicas: 4 }), 'deployer'),
      409,
      'Conflict',
      'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas',
    );
    const out = apply(untracked, statefulSet({ replicas: 2 }), 'deployer');
    assert.ok(owned(out, 'before-first-apply', 'Update').includes('.spec.replicas'));
    assert.ok(owned(out, 'deployer', 'Apply').includes('.spec.replicas'));
  });

  it('does not let the main resource own status when the kind has a status subresource', () => {
    const config = { ...statefulSet({ replicas: 1 }), status: { replicas: 1 } };
    const out = apply(undefined, config, 'a', { resetFields: [['status']] });
    assert.ok(!owned(out, 'a').some((p) => p.startsWith('.status')));
  });

  it('rejects what kube-apiserver rejects', () => {
    expectStatus(
      () => apply(undefined, statefulSet(), ''),
      422,
      'Invalid',
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    expectStatus(() => apply(undefined, { metadata: { name: 'web' } }, 'a'), 400, 'BadRequest', 'invalid object type: /, Kind=');
    expectStatus(() => apply(undefined, { ...statefulSet(), kind: 'Deployment' }, 'a'), 400, 'BadRequest', 'invalid object type: apps/v1, Kind=Deployment');
    expectStatus(() => apply(undefined, { ...statefulSet(), apiVersion: 'apps/v1beta2' }, 'a'), 400, 'BadRequest', 'invalid object type: apps/v1beta2, Kind=StatefulSet');
    expectStatus(
      () => apply(undefined, { apiVersion: 'apps/v1', kind: 'StatefulSet', spec: {} }, 'a', { name: 'web' }),
      400,
      'BadRequest',
      'the name of the object (web based on URL) was undeterminable: name must be provided',
    );
    expectStatus(
      () => apply(undefined, statefulSet(), 'a', { name: 'db' }),
      400,
      'BadRequest',
      'the name of the object (web) does not match the name on the URL (db)',
    );
    const withManagedFields = statefulSet();
    withManagedFields.metadata.managedFields = [];
    expectStatus(() => apply(undefined, withManagedFields, 'a'), 400, 'BadRequest', 'metadata.managedFields must be nil');
    const unknown = statefulSet();
    unknown.spec.replica = 3;
    expectStatus(
      () => apply(undefined, unknown, 'a'),
      500,
      '',
      'failed to create typed patch object (default/web; apps/v1, Kind=StatefulSet): .spec.replica: field not declared in schema',
    );
    const duplicates = statefulSet({ containers: [{ name: 'a', image: 'a' }, { name: 'a', image: 'b' }, { image: 'c' }] });
    expectStatus(() => apply(undefined, duplicates, 'a'), 500, '', /errors:\n  \.spec\.template\.spec\.containers: duplicate entries for key \[name="a"\]\n  \.spec\.template\.spec\.containers: element 2: associative list with keys has an element that omits key field "name" \(and doesn't have default value\)/);
  });

  it('merges lists keyed only by a strategic merge key', () => {
    // A type described only with strategic-merge metadata: the merge key makes the list a map.
    const schema: ApplySchema = {
      definitions: {
        'example.v1.Widget': {
          type: 'object',
          'x-kubernetes-group-version-kind': [{ group: 'example.com', version: 'v1', kind: 'Widget' }],
          properties: {
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
            parts: {
              type: 'array',
              items: { type: 'object', properties: { id: { type: 'string' }, size: { type: 'integer' } } },
              'x-kubernetes-patch-strategy': 'merge',
              'x-kubernetes-patch-merge-key': 'id',
            },
            tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-patch-strategy': 'merge' },
          },
        },
        'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': getSchema().definitions['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']!,
      },
    };
    const opts = { schema, definition: 'example.v1.Widget', apiVersion: 'example.com/v1', now: T0, force: false };
    const widget = (parts: Obj[], tags: string[]) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, parts, tags });
    const v1 = stored(serverSideApply(undefined, widget([{ id: 'a', size: 1 }], ['x']), { ...opts, manager: 'one' }) as Obj);
    const v2 = serverSideApply(v1 as KubeObject, widget([{ id: 'b', size: 2 }], ['y']), { ...opts, manager: 'two' }) as Obj;
    assert.deepEqual(v2.parts, [{ id: 'a', size: 1 }, { id: 'b', size: 2 }]);
    assert.deepEqual(v2.tags, ['x', 'y']);
    assert.deepEqual(owned(v2, 'two'), ['.parts[id="b"]', '.parts[id="b"].id', '.parts[id="b"].size', '.tags[="y"]']);
  });
});

describe('recordUpdate', () => {
  it('records what a create sets, as kube-apiserver records it', () => {
    const created = stored(statefulSet({ replicas: 1, labels: { app: 'web' } }));
    update(undefined, created, 'kubectl-create', T0);
    assert.deepEqual(created.metadata.managedFields, [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          // Maps and list items that appear are owned themselves ("."); the object's own
          // metadata, spec and template always exist in the typed object, so they are not.
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': {
                'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:resources': {} } },
              },
            },
          },
        },
      },
    ]);
  });

  it('moves ownership of the fields a write changes to its manager', () => {
    const v1 = stored(apply(undefined, statefulSet({ replicas: 3, serviceName: 'web' }), 'deployer'));
    const edited = structuredClone(v1);
    edited.spec.template.spec.containers[0].image = 'nginx:1.26';
    delete edited.spec.serviceName;
    update(v1, edited, 'kubectl-edit', T1);
    assert.ok(!owned(edited, 'deployer').includes('.spec.template.spec.containers[name="nginx"].image'));
    // A removed field leaves every owner.
    assert.ok(!owned(edited, 'deployer').includes('.spec.serviceName'));
    assert.ok(owned(edited, 'deployer').includes('.spec.replicas'));
    assert.deepEqual(owned(edited, 'kubectl-edit'), ['.spec.template.spec.containers[name="nginx"].image']);
    assert.equal(entry(edited, 'kubectl-edit')!.time, T1);
    // Apply entries sort before Update entries.
    assert.deepEqual(entries(edited).map((e) => e.operation), ['Apply', 'Update']);

    // A second edit by the same manager joins its entry and bumps its time.
    const again = structuredClone(edited);
    again.spec.replicas = 4;
    update(edited, again, 'kubectl-edit', T2);
    assert.deepEqual(owned(again, 'kubectl-edit'), ['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image']);
    assert.equal(entry(again, 'kubectl-edit')!.time, T2);
    assert.equal(entries(again).filter((e) => e.manager === 'kubectl-edit').length, 1);

    // A write that changes nothing records nothing.
    const same = structuredClone(again);
    update(again, same, 'kubectl-patch', T2);
    assert.equal(entry(same, 'kubectl-patch'), undefined);
    assert.deepEqual(same.metadata.managedFields, again.metadata.managedFields);
  });

  it('keeps the stored managedFields when a write does not send them, and drops them on []', () => {
    const v1 = stored(apply(undefined, statefulSet({ replicas: 3 }), 'deployer'));
    const put = structuredClone(v1);
    delete put.metadata.managedFields;
    put.spec.replicas = 4;
    update(v1, put, 'kubectl-replace');
    assert.ok(entry(put, 'deployer'));
    assert.ok(owned(put, 'kubectl-replace').includes('.spec.replicas'));

    const reset = structuredClone(v1);
    reset.metadata.managedFields = [];
    update(v1, reset, 'kubectl-patch');
    assert.equal(reset.metadata.managedFields, undefined);
    // ...and an untracked object stays untracked by updates.
    const later = structuredClone(reset);
    later.spec.replicas = 9;
    update(reset, later, 'kubectl-edit');
    assert.equal(later.metadata.managedFields, undefined);
  });

  it('records subresource writes apart, from the stored managedFields', () => {
    const v1 = stored(apply(undefined, statefulSet({ replicas: 3 }), 'deployer'));
    const status = structuredClone(v1);
    status.status = { replicas: 3, readyReplicas: 3 };
    status.metadata.managedFields = [];
    update(v1, status, 'kube-controller-manager', T1, { subresource: 'status', resetFields: [['spec']] });
    const e = entry(status, 'kube-controller-manager')!;
    assert.equal(e.subresource, 'status');
    assert.deepEqual(e.fieldsV1, { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } });
    assert.ok(entry(status, 'deployer'));
  });

  it('folds the oldest of more than ten update managers into ancient-changes', () => {
    let obj = stored(apply(undefined, statefulSet({ replicas: 1 }), 'deployer'));
    for (let i = 0; i < 12; i++) {
      const next = structuredClone(obj);
      next.metadata.annotations = { ...next.metadata.annotations, [`n${i}`]: 'v' };
      update(obj, next, `tool-${String(i).padStart(2, '0')}`, `2024-05-01T10:${String(i).padStart(2, '0')}:00Z`);
      obj = next;
    }
    const updates = entries(obj).filter((e) => e.operation === 'Update');
    assert.equal(updates.length, 10);
    const ancient = entry(obj, 'ancient-changes')!;
    assert.deepEqual(FieldSet.fromFieldsV1(ancient.fieldsV1).paths().map(pathString).filter((p) => !p.endsWith('annotations')), [
      '.metadata.annotations.n0',
      '.metadata.annotations.n1',
      '.metadata.annotations.n2',
    ]);
    assert.ok(entry(obj, 'tool-11'));
    assert.equal(entry(obj, 'tool-00'), undefined);
  });
});

describe("kubectl's move from client-side to server-side apply", () => {
  // `kubectl apply` (client-side) stores the configuration in an annotation and writes as
  // kubectl-client-side-apply.
  function clientSideApplied(config: Obj): Obj {
    const obj = stored(config);
    obj.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: `${JSON.stringify(config)}\n` };
    update(undefined, obj, 'kubectl-client-side-apply', T0);
    return obj;
  }

  it('accepts the managedFields kubectl rewrites, and then prunes what the configuration dropped', () => {
    const live = clientSideApplied(statefulSet({ replicas: 2, serviceName: 'web' }));
    assert.equal(entry(live, 'kubectl-client-side-apply')!.operation, 'Update');

    // kubectl turns the client-side entry into its Apply entry, with a JSON patch of managedFields.
    const patched = structuredClone(live);
    patched.metadata.managedFields = patched.metadata.managedFields.map((e: Obj) =>
      e.manager === 'kubectl-client-side-apply' ? { ...e, manager: 'kubectl', operation: 'Apply' } : e,
    );
    update(live, patched, 'kubectl', T1);
    assert.deepEqual(entries(patched).map((e) => [e.manager, e.operation]), [['kubectl', 'Apply']]);
    assert.deepEqual(entry(patched, 'kubectl')!.fieldsV1, entry(live, 'kubectl-client-side-apply')!.fieldsV1);

    // Its server-side apply of a configuration without serviceName removes serviceName.
    const out = apply(patched, statefulSet({ replicas: 2 }), 'kubectl', { now: T2 });
    assert.equal(out.spec.serviceName, undefined);
    assert.equal(out.spec.replicas, 2);
    assert.deepEqual(entries(out).map((e) => [e.manager, e.operation, e.time]), [['kubectl', 'Apply', T2]]);
  });

  it('lets kubectl take over fields its last-applied configuration still holds', () => {
    const live = clientSideApplied(statefulSet({ replicas: 2 }));
    // Another manager would conflict...
    expectStatus(() => apply(live, statefulSet({ replicas: 5 }), 'helm'), 409, 'Conflict', /"kubectl-client-side-apply" using apps\/v1: \.spec\.replicas/);
    // ...kubectl does not, and keeps the annotation in step with what it applied.
    const out = apply(live, statefulSet({ replicas: 5 }), 'kubectl');
    assert.equal(out.spec.replicas, 5);
    assert.ok(owned(out, 'kubectl', 'Apply').includes('.spec.replicas'));
    assert.ok(!owned(out, 'kubectl-client-side-apply').includes('.spec.replicas'));
    const annotation = JSON.parse(out.metadata.annotations[LAST_APPLIED_ANNOTATION]);
    assert.equal(annotation.spec.replicas, 5);
    assert.ok(out.metadata.annotations[LAST_APPLIED_ANNOTATION].endsWith('}\n'));

    // Once a field was changed by someone else since, kubectl conflicts too.
    const scaled = structuredClone(live);
    scaled.spec.replicas = 3;
    update(live, scaled, 'kubectl-client-side-apply', T1);
    expectStatus(() => apply(scaled, statefulSet({ replicas: 5 }), 'kubectl'), 409, 'Conflict');
  });
});

describe('field managers', () => {
  it('validates fieldManager as PatchOptions does', () => {
    assert.deepEqual(fieldManagerErrors('kubectl', true), []);
    assert.deepEqual(fieldManagerErrors(undefined, false), []);
    assert.deepEqual(fieldManagerErrors('x'.repeat(129), false).map((e) => e.message), ['Too long: may not be more than 128 bytes']);
    assert.deepEqual(fieldManagerErrors('a\u0007', false).map((e) => e.message), ['Invalid value: "a\\u0007": invalid character U+0007 (at position 1)']);
  });

  it('derives a manager from the User-Agent when none is given', () => {
    assert.equal(managerFromUserAgent(undefined, 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350'), 'kubectl');
    assert.equal(managerFromUserAgent('kubectl-edit', 'kubectl/v1.30.2'), 'kubectl-edit');
    assert.equal(managerFromUserAgent('', undefined), '');
  });
});
