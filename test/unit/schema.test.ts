import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definitionName, getDefinition, resolveRef, unknownFieldPaths, unknownFields, type Schema } from '../../src/machinery/schema.js';

function def(name: string): Schema {
  const d = getDefinition(name);
  assert.ok(d, `definition ${name}`);
  return d;
}

function prop(definition: string, field: string): Schema {
  const p = def(definition).properties?.[field];
  assert.ok(p, `${definition}.${field}`);
  return p;
}

const ref = (name: string): string => `#/definitions/${name}`;

test('PodSpec lists carry Kubernetes patch strategies and merge keys', () => {
  const containers = prop('io.k8s.api.core.v1.PodSpec', 'containers');
  assert.equal(containers.type, 'array');
  assert.equal(containers.items?.$ref, ref('io.k8s.api.core.v1.Container'));
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers['x-kubernetes-list-type'], 'map');
  assert.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);

  const volumes = prop('io.k8s.api.core.v1.PodSpec', 'volumes');
  assert.equal(volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  assert.equal(volumes['x-kubernetes-patch-merge-key'], 'name');

  assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'tolerations')['x-kubernetes-list-type'], 'atomic');
  assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'tolerations')['x-kubernetes-patch-strategy'], undefined);
  assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'nodeSelector')['x-kubernetes-map-type'], 'atomic');
  assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'terminationGracePeriodSeconds').type, 'integer');
  assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'terminationGracePeriodSeconds').format, 'int64');
  assert.ok(def('io.k8s.api.core.v1.PodSpec').required?.includes('containers'));
});

test('Container fields have their types and extensions', () => {
  const c = 'io.k8s.api.core.v1.Container';
  assert.equal(prop(c, 'image').type, 'string');
  assert.match(prop(c, 'image').description ?? '', /Container image name/);
  assert.equal(prop(c, 'stdin').type, 'boolean');
  assert.equal(prop(c, 'livenessProbe').$ref, ref('io.k8s.api.core.v1.Probe'));
  assert.deepEqual(def(c).required, ['name']);

  const ports = prop(c, 'ports');
  assert.equal(ports['x-kubernetes-patch-merge-key'], 'containerPort');
  assert.deepEqual(ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  assert.equal(prop(c, 'env')['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(prop(c, 'volumeMounts')['x-kubernetes-patch-merge-key'], 'mountPath');
  assert.equal(prop(c, 'args')['x-kubernetes-list-type'], 'atomic');

  assert.equal(prop('io.k8s.api.core.v1.ContainerPort', 'containerPort').format, 'int32');
  // Quantities and IntOrStrings are named types, as in Kubernetes' spec.
  const limits = prop('io.k8s.api.core.v1.ResourceRequirements', 'limits');
  assert.equal(limits.type, 'object');
  assert.equal((limits.additionalProperties as Schema).$ref, ref('io.k8s.apimachinery.pkg.api.resource.Quantity'));
  assert.equal(def('io.k8s.apimachinery.pkg.api.resource.Quantity').type, 'string');
  assert.equal(prop('io.k8s.api.core.v1.HTTPGetAction', 'port').$ref, ref('io.k8s.apimachinery.pkg.util.intstr.IntOrString'));
  const ios = def('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
  assert.equal(ios.format, 'int-or-string');
  assert.equal(ios['x-kubernetes-int-or-string'], true);
  assert.deepEqual((prop('io.k8s.api.core.v1.Secret', 'data').additionalProperties as Schema), { type: 'string', format: 'byte' });
  assert.equal(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'creationTimestamp').$ref, ref('io.k8s.apimachinery.pkg.apis.meta.v1.Time'));
  assert.equal(def('io.k8s.apimachinery.pkg.apis.meta.v1.Time').format, 'date-time');
});

test('StatefulSetSpec fields, required fields and group-version-kind', () => {
  const s = 'io.k8s.api.apps.v1.StatefulSetSpec';
  assert.equal(prop(s, 'replicas').type, 'integer');
  assert.equal(prop(s, 'replicas').format, 'int32');
  assert.equal(prop(s, 'selector').$ref, ref('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector'));
  assert.equal(prop(s, 'template').$ref, ref('io.k8s.api.core.v1.PodTemplateSpec'));
  assert.equal(prop(s, 'serviceName').type, 'string');
  const vct = prop(s, 'volumeClaimTemplates');
  assert.equal(vct.items?.$ref, ref('io.k8s.api.core.v1.PersistentVolumeClaim'));
  assert.equal(vct['x-kubernetes-list-type'], 'atomic');
  assert.deepEqual([...(def(s).required ?? [])].sort(), ['selector', 'template']);
  assert.equal(prop('io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy', 'maxUnavailable').$ref, ref('io.k8s.apimachinery.pkg.util.intstr.IntOrString'));
  assert.equal(prop('io.k8s.api.apps.v1.StatefulSetStatus', 'conditions')['x-kubernetes-patch-merge-key'], 'type');

  assert.deepEqual(def('io.k8s.api.apps.v1.StatefulSet')['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'StatefulSet', version: 'v1' }]);
  assert.equal(definitionName('apps', 'v1', 'StatefulSet'), 'io.k8s.api.apps.v1.StatefulSet');
  assert.equal(definitionName('', 'v1', 'Event'), 'io.k8s.api.core.v1.Event');
  assert.equal(definitionName('events.k8s.io', 'v1', 'Event'), 'io.k8s.api.events.v1.Event');
  assert.equal(definitionName('autoscaling', 'v1', 'Scale'), 'io.k8s.api.autoscaling.v1.Scale');
  assert.equal(definitionName('apps', 'v1', 'DeleteOptions'), 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions');
  assert.equal(definitionName('apps', 'v1', 'Deployment'), undefined);

  const finalizers = prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers');
  assert.equal(finalizers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(finalizers['x-kubernetes-list-type'], 'set');
  assert.equal(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'ownerReferences')['x-kubernetes-patch-merge-key'], 'uid');
  assert.equal(resolveRef(prop('io.k8s.api.apps.v1.StatefulSet', 'spec')), def(s));
});

test('every reference resolves', () => {
  const visit = (s: unknown): void => {
    if (Array.isArray(s)) s.forEach(visit);
    else if (s && typeof s === 'object') {
      for (const [k, v] of Object.entries(s)) {
        if (k === '$ref') assert.ok(getDefinition(String(v).replace('#/definitions/', '')), `dangling ${v}`);
        else visit(v);
      }
    }
  };
  for (const name of ['io.k8s.api.core.v1.Pod', 'io.k8s.api.apps.v1.StatefulSet', 'io.k8s.api.core.v1.Node']) visit(def(name));
});

/** A StatefulSet as a user writes it, using most of what a real manifest contains. */
function statefulSet(): Record<string, any> {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'nginx' }, annotations: { 'example.com/any-key': 'x' } },
    spec: {
      serviceName: 'nginx',
      replicas: 3,
      minReadySeconds: 5,
      podManagementPolicy: 'OrderedReady',
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: 'nginx' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: '50%' } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
      ordinals: { start: 0 },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          terminationGracePeriodSeconds: 10,
          securityContext: { fsGroup: 2000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'nginx' } } } },
              ],
            },
          },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
          initContainers: [{ name: 'init', image: 'busybox:1.36', command: ['sh', '-c', 'true'] }],
          containers: [
            {
              name: 'nginx',
              image: 'registry.k8s.io/nginx-slim:0.24',
              imagePullPolicy: 'IfNotPresent',
              ports: [{ containerPort: 80, name: 'web', protocol: 'TCP' }],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'MODE', value: 'prod' },
                { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password', optional: false } } },
              ],
              envFrom: [{ configMapRef: { name: 'settings' } }],
              resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
              readinessProbe: { httpGet: { path: '/', port: 'web' }, initialDelaySeconds: 2, periodSeconds: 5 },
              livenessProbe: { tcpSocket: { port: 80 }, failureThreshold: 3 },
              lifecycle: { preStop: { exec: { command: ['nginx', '-s', 'quit'] } } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }, { name: 'conf', mountPath: '/etc/nginx/conf.d', readOnly: true }],
            },
          ],
          volumes: [
            { name: 'conf', configMap: { name: 'nginx-conf', items: [{ key: 'default.conf', path: 'default.conf' }] } },
            { name: 'scratch', emptyDir: { sizeLimit: '1Gi' } },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'www' },
          spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local', resources: { requests: { storage: '1Gi' } } },
        },
      ],
    },
    status: { replicas: 0, availableReplicas: 0, conditions: [] },
  };
}

test('a correct StatefulSet manifest has no unknown fields', () => {
  assert.deepEqual(unknownFields(statefulSet(), 'io.k8s.api.apps.v1.StatefulSet'), []);
});

test('unknown fields are reported in document order with their full path, as the strict decoder words them', () => {
  const s = statefulSet();
  s.spec.template.spec.containers[0].imagePullPolcy = 'Always';
  s.spec.replica = 3;
  s.metadata.lables = { a: 'b' };
  s.spec.volumeClaimTemplates[0].spec.resources.request = {};
  assert.deepEqual(unknownFields(s, 'io.k8s.api.apps.v1.StatefulSet'), [
    'unknown field "metadata.lables"',
    'unknown field "spec.template.spec.containers[0].imagePullPolcy"',
    'unknown field "spec.volumeClaimTemplates[0].spec.resources.request"',
    'unknown field "spec.replica"',
  ]);
});

test('unknown-field matching is case-sensitive and ignores only the top-level apiVersion and kind', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', Kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', Image: 'x', kind: 'y' }] } };
  assert.deepEqual(unknownFieldPaths(pod, 'io.k8s.api.core.v1.Pod'), ['Kind', 'spec.containers[0].Image', 'spec.containers[0].kind']);
  // Values of the wrong shape are validation's business, not the decoder's unknown-field check.
  assert.deepEqual(unknownFieldPaths({ metadata: 'x', spec: { containers: 'y' } }, 'io.k8s.api.core.v1.Pod'), []);
  // Opaque fields accept anything.
  assert.deepEqual(unknownFieldPaths({ revision: 1, data: { any: { thing: 1 } } }, 'io.k8s.api.apps.v1.ControllerRevision'), []);
  assert.throws(() => unknownFieldPaths({}, 'io.k8s.api.apps.v1.Nope'), /unknown definition/);
});
