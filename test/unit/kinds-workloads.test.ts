// The workload kinds: defaults as `kubectl get -o yaml` shows them on Kubernetes 1.32,
// validation messages as kube-apiserver words them, and the rows `kubectl get` prints.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kind as statefulsets, type StatefulSet } from '../../src/api/apps/statefulsets.js';
import { kind as controllerrevisions, type ControllerRevision } from '../../src/api/apps/controllerrevisions.js';
import { kind as pods, type Pod } from '../../src/api/core/pods.js';
import { kind as pvcs, type PersistentVolumeClaim } from '../../src/api/core/persistentvolumeclaims.js';
import { computePodQOS, imageTag, type PodSpec } from '../../src/api/core/podspec.js';
import { fieldErrorText, invalidError, type FieldError } from '../../src/machinery/validation.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString().replace('.000Z', 'Z');
const texts = (errs: FieldError[]) => errs.map(fieldErrorText);
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function webSet(): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'nginx' } },
      serviceName: 'nginx',
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'registry.k8s.io/nginx-slim:0.24',
              ports: [{ containerPort: 80, name: 'web' }],
              volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        { metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      ],
    },
  };
}

function created<T extends StatefulSet | Pod | PersistentVolumeClaim>(def: typeof statefulsets | typeof pods | typeof pvcs, obj: T): T {
  (def.defaults as (o: T) => void)(obj);
  (def.prepareForCreate as (o: T) => void)(obj);
  return obj;
}

function pod(spec: Partial<PodSpec>, extra: Partial<Pod> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'default' }, spec: spec as PodSpec, ...extra } as Pod;
}

describe('StatefulSet defaults', () => {
  it('fills a minimal StatefulSet as Kubernetes 1.32 stores it', () => {
    const sts = created(statefulsets, webSet());
    assert.deepEqual(sts.spec, {
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      podManagementPolicy: 'OrderedReady',
      replicas: 1,
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: 'nginx' } },
      serviceName: 'nginx',
      template: {
        metadata: { creationTimestamp: null, labels: { app: 'nginx' } },
        spec: {
          containers: [
            {
              image: 'registry.k8s.io/nginx-slim:0.24',
              imagePullPolicy: 'IfNotPresent',
              name: 'nginx',
              ports: [{ containerPort: 80, name: 'web', protocol: 'TCP' }],
              resources: {},
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              volumeMounts: [{ mountPath: '/usr/share/nginx/html', name: 'www' }],
            },
          ],
          dnsPolicy: 'ClusterFirst',
          restartPolicy: 'Always',
          schedulerName: 'default-scheduler',
          securityContext: {},
          terminationGracePeriodSeconds: 30,
        },
      },
      updateStrategy: { rollingUpdate: { partition: 0 }, type: 'RollingUpdate' },
      volumeClaimTemplates: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { creationTimestamp: null, name: 'www' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
          status: { phase: 'Pending' },
        },
      ],
    });
    assert.deepEqual(sts.status, { availableReplicas: 0, replicas: 0 });
    assert.deepEqual(statefulsets.validate!(sts), []);
  });

  it('is idempotent', () => {
    const once = created(statefulsets, webSet());
    const twice = copy(once);
    statefulsets.defaults!(twice);
    assert.deepEqual(twice, once);
  });

  it('gives OnDelete no rollingUpdate and keeps an explicit partition', () => {
    const a = webSet();
    a.spec!.updateStrategy = { type: 'OnDelete' };
    statefulsets.defaults!(a);
    assert.deepEqual(a.spec!.updateStrategy, { type: 'OnDelete' });
    const b = webSet();
    b.spec!.updateStrategy = { rollingUpdate: { partition: 2 } };
    statefulsets.defaults!(b);
    assert.deepEqual(b.spec!.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 2 } });
  });

  it('writes quantities in their canonical form', () => {
    const sts = webSet();
    sts.spec!.volumeClaimTemplates![0].spec!.resources!.requests!.storage = '1024Mi';
    statefulsets.defaults!(sts);
    assert.equal(sts.spec!.volumeClaimTemplates![0].spec!.resources!.requests!.storage, '1Gi');
  });
});

describe('StatefulSet validation', () => {
  const errorsOf = (mutate: (s: StatefulSet) => void) => {
    const sts = webSet();
    mutate(sts);
    statefulsets.defaults!(sts);
    return texts(statefulsets.validate!(sts));
  };

  it('requires a selector matching the template labels', () => {
    const sts = webSet();
    delete sts.spec!.selector;
    sts.spec!.template!.metadata!.labels = { app: 'x' };
    statefulsets.defaults!(sts);
    const errs = statefulsets.validate!(sts);
    assert.deepEqual(texts(errs), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    ]);
    assert.equal(
      invalidError('apps', 'StatefulSet', 'web', errs).message,
      'StatefulSet.apps "web" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`]',
    );
  });

  it('rejects a selector that does not match', () => {
    assert.deepEqual(
      errorsOf((s) => (s.spec!.selector = { matchLabels: { app: 'other' } })),
      ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`'],
    );
    assert.deepEqual(
      errorsOf((s) => (s.spec!.selector = {})),
      ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset'],
    );
  });

  it('checks numbers, policies and strategies', () => {
    assert.deepEqual(errorsOf((s) => (s.spec!.replicas = -1)), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
    assert.deepEqual(errorsOf((s) => (s.spec!.minReadySeconds = -5)), ['spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0']);
    assert.deepEqual(errorsOf((s) => (s.spec!.ordinals = { start: -1 })), ['spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0']);
    assert.deepEqual(errorsOf((s) => (s.spec!.podManagementPolicy = 'Sometimes')), [
      `spec.podManagementPolicy: Invalid value: "Sometimes": must be 'OrderedReady' or 'Parallel'`,
    ]);
    assert.deepEqual(errorsOf((s) => (s.spec!.updateStrategy = { type: 'Recreate' })), [
      `spec.updateStrategy: Invalid value: apps.StatefulSetUpdateStrategy{Type:"Recreate", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be 'RollingUpdate' or 'OnDelete'`,
    ]);
    assert.deepEqual(errorsOf((s) => (s.spec!.updateStrategy = { type: 'OnDelete', rollingUpdate: { partition: 1 } })), [
      `spec.updateStrategy.rollingUpdate: Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:1, MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy 'RollingUpdate'`,
    ]);
    assert.deepEqual(errorsOf((s) => (s.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: -2 } })), [
      'spec.updateStrategy.rollingUpdate.partition: Invalid value: -2: must be greater than or equal to 0',
    ]);
    assert.deepEqual(errorsOf((s) => (s.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } })), [
      'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: cannot be 0',
    ]);
    assert.deepEqual(errorsOf((s) => (s.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '150%' } })), [
      'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%',
    ]);
    assert.deepEqual(errorsOf((s) => (s.spec!.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Keep' })), [
      'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"',
    ]);
  });

  it('only allows Always restarts and no deadline in the template', () => {
    assert.deepEqual(errorsOf((s) => (s.spec!.template!.spec!.restartPolicy = 'Never')), [
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
    assert.deepEqual(errorsOf((s) => (s.spec!.template!.spec!.activeDeadlineSeconds = 10)), [
      'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported',
    ]);
  });

  it('checks the service name, the pod template and the claim templates', () => {
    assert.deepEqual(errorsOf((s) => (s.spec!.serviceName = 'Web_Svc')), [
      `spec.serviceName: Invalid value: "Web_Svc": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    assert.deepEqual(errorsOf((s) => delete s.spec!.template!.spec!.containers[0].image), ['spec.template.spec.containers[0].image: Required value']);
    assert.deepEqual(errorsOf((s) => delete s.spec!.volumeClaimTemplates![0].spec!.accessModes), [
      'spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode is required',
    ]);
    assert.deepEqual(errorsOf((s) => (s.spec!.volumeClaimTemplates = [])), [
      'spec.template.spec.containers[0].volumeMounts[0].name: Not found: "www"',
    ]);
  });

  it('names a set as a DNS label', () => {
    assert.deepEqual(statefulsets.nameValidation!('web'), []);
    assert.equal(statefulsets.nameValidation!('web.v1').length, 1);
  });

  it('forbids updates to fields other than the mutable ones', () => {
    const old = created(statefulsets, webSet());
    const next = copy(old);
    next.spec!.replicas = 3;
    next.spec!.template!.spec!.containers[0].image = 'nginx:1.27';
    next.spec!.updateStrategy = { type: 'OnDelete' };
    next.spec!.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete', whenScaled: 'Retain' };
    assert.deepEqual(statefulsets.validateUpdate!(next, old), []);

    const bad = copy(old);
    bad.spec!.serviceName = 'other';
    assert.deepEqual(texts(statefulsets.validateUpdate!(bad, old)), [
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });

  it('lets a volumeClaimTemplate grow, never shrink or change otherwise (berth differs from Kubernetes)', () => {
    const old = created(statefulsets, webSet());
    const grown = copy(old);
    grown.spec!.volumeClaimTemplates![0].spec!.resources!.requests!.storage = '2Gi';
    assert.deepEqual(statefulsets.validateUpdate!(grown, old), []);

    const shrunk = copy(old);
    shrunk.spec!.volumeClaimTemplates![0].spec!.resources!.requests!.storage = '512Mi';
    assert.deepEqual(texts(statefulsets.validateUpdate!(shrunk, old)), [
      'spec.volumeClaimTemplates[0].spec.resources.requests.storage: Forbidden: may not be decreased (from 1Gi to 512Mi): claims can grow but never shrink',
    ]);

    const changed = copy(old);
    changed.spec!.volumeClaimTemplates![0].spec!.resources!.requests!.storage = '2Gi';
    changed.spec!.volumeClaimTemplates![0].spec!.accessModes = ['ReadWriteOncePod'];
    assert.deepEqual(texts(statefulsets.validateUpdate!(changed, old)), [
      'spec.volumeClaimTemplates: Forbidden: updates to volumeClaimTemplates are forbidden except increasing resources.requests.storage',
    ]);
  });

  it('checks status updates', () => {
    const old = created(statefulsets, webSet());
    const next = copy(old);
    next.status = { replicas: 1, readyReplicas: 2, availableReplicas: 0, collisionCount: 0 };
    old.status!.collisionCount = 1;
    assert.deepEqual(texts(statefulsets.validateStatusUpdate!(next, old)), [
      'status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas',
      'status.collisionCount: Invalid value: 0: cannot be decremented',
    ]);
  });

  it('scales through spec.replicas and reports the selector', () => {
    const sts = created(statefulsets, webSet());
    const scale = statefulsets.scale!;
    assert.equal(scale.specReplicas(sts), 1);
    scale.setSpecReplicas(sts, 3);
    assert.equal(sts.spec!.replicas, 3);
    assert.equal(scale.statusReplicas(sts), 0);
    assert.equal(scale.selector(sts), 'app=nginx');
  });

  it('prints READY, AGE and, wide, CONTAINERS and IMAGES', () => {
    const sts = created(statefulsets, webSet());
    sts.metadata.creationTimestamp = ago(300);
    sts.spec!.replicas = 3;
    sts.spec!.template!.spec!.containers.push({ name: 'sidecar', image: 'busybox' });
    sts.status!.readyReplicas = 2;
    assert.deepEqual(statefulsets.table.row(sts, NOW), ['web', '2/3', '5m', 'nginx,sidecar', 'registry.k8s.io/nginx-slim:0.24,busybox']);
    assert.deepEqual(
      statefulsets.table.columns.map((c) => [c.name, c.priority]),
      [
        ['Name', 0],
        ['Ready', 0],
        ['Age', 0],
        ['Containers', 1],
        ['Images', 1],
      ],
    );
    assert.equal(statefulsets.table.columns[0].format, 'name');
  });

  it('has no field selectors of its own', () => {
    assert.equal(statefulsets.fieldSelectors, undefined);
    assert.equal(controllerrevisions.fieldSelectors, undefined);
  });
});

describe('Pod defaults', () => {
  it('defaults a pod as Kubernetes does, admission included', () => {
    const p = created(pods, pod({ containers: [{ name: 'c', image: 'nginx' }] }));
    assert.deepEqual(p.spec, {
      containers: [
        {
          image: 'nginx',
          imagePullPolicy: 'Always',
          name: 'c',
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      serviceAccount: 'default',
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
      tolerations: [
        { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
        { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
      ],
    });
    assert.deepEqual(p.status, { phase: 'Pending', qosClass: 'BestEffort' });
    assert.deepEqual(pods.validate!(p), []);
  });

  it('picks the pull policy from the tag', () => {
    const policy = (image: string) => {
      const p = pod({ containers: [{ name: 'c', image }] });
      pods.defaults!(p);
      return p.spec!.containers[0].imagePullPolicy;
    };
    assert.equal(policy('nginx'), 'Always');
    assert.equal(policy('nginx:latest'), 'Always');
    assert.equal(policy('nginx:1.27'), 'IfNotPresent');
    assert.equal(policy('localhost:5000/app'), 'Always');
    assert.equal(policy('localhost:5000/app:v2'), 'IfNotPresent');
    assert.equal(policy(`nginx@sha256:${'a'.repeat(64)}`), 'IfNotPresent');
    assert.equal(policy('Not A Reference'), 'IfNotPresent');
    assert.equal(imageTag('registry.example.com/team/app:1.0'), '1.0');
  });

  it('defaults probes, volumes, env and ports', () => {
    const p = pod({
      hostNetwork: true,
      containers: [
        {
          name: 'c',
          image: 'app:1',
          ports: [{ containerPort: 8080 }],
          env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
          livenessProbe: { httpGet: { port: 8080 } },
          readinessProbe: { grpc: { port: 9000 } },
          lifecycle: { preStop: { httpGet: { port: 'http' } } },
          resources: { limits: { cpu: '500m', memory: '128Mi' } },
        },
      ],
      volumes: [
        { name: 'scratch' },
        { name: 'conf', configMap: { name: 'conf' } },
        { name: 'creds', secret: { secretName: 'creds' } },
        { name: 'host', hostPath: { path: '/var/lib/x' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
        { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
        {
          name: 'cache',
          ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } },
        },
      ],
    });
    pods.defaults!(p);
    const c = p.spec!.containers[0];
    assert.deepEqual(c.ports, [{ containerPort: 8080, hostPort: 8080, protocol: 'TCP' }]);
    assert.deepEqual(c.env![0].valueFrom!.fieldRef, { apiVersion: 'v1', fieldPath: 'spec.nodeName' });
    assert.deepEqual(c.livenessProbe, {
      httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    assert.deepEqual(c.readinessProbe!.grpc, { port: 9000, service: '' });
    assert.deepEqual(c.lifecycle!.preStop!.httpGet, { port: 'http', path: '/', scheme: 'HTTP' });
    assert.deepEqual(c.resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } });
    const v = p.spec!.volumes!;
    assert.deepEqual(v[0], { name: 'scratch', emptyDir: {} });
    assert.equal(v[1].configMap!.defaultMode, 420);
    assert.equal(v[2].secret!.defaultMode, 420);
    assert.equal(v[3].hostPath!.type, '');
    assert.equal(v[4].downwardAPI!.defaultMode, 420);
    assert.equal(v[4].downwardAPI!.items![0].fieldRef!.apiVersion, 'v1');
    assert.equal(v[5].projected!.defaultMode, 420);
    assert.equal(v[5].projected!.sources![0].serviceAccountToken!.expirationSeconds, 3600);
    assert.equal(v[6].ephemeral!.volumeClaimTemplate!.spec.volumeMode, 'Filesystem');
  });

  it('copies limits to requests for pods only, not templates', () => {
    const sts = webSet();
    sts.spec!.template!.spec!.containers[0].resources = { limits: { memory: '1Gi' } };
    statefulsets.defaults!(sts);
    assert.deepEqual(sts.spec!.template!.spec!.containers[0].resources, { limits: { memory: '1Gi' } });
    assert.equal(sts.spec!.template!.spec!.enableServiceLinks, undefined);
  });

  it('keeps podIP and podIPs in step', () => {
    const p = pod({ containers: [{ name: 'c', image: 'nginx' }] }, { status: { podIP: '10.244.0.5' } });
    pods.defaults!(p);
    assert.deepEqual(p.status!.podIPs, [{ ip: '10.244.0.5' }]);
  });

  it('computes the QoS class', () => {
    const qos = (resources: object) => computePodQOS({ containers: [{ name: 'c', resources }] } as PodSpec);
    assert.equal(qos({}), 'BestEffort');
    assert.equal(qos({ requests: { cpu: '100m' } }), 'Burstable');
    assert.equal(qos({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1000m', memory: '1024Mi' } }), 'Guaranteed');
    assert.equal(qos({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }), 'Burstable');
    assert.equal(qos({ limits: { cpu: '1' } }), 'Burstable');
  });

  it('marks a gated pod as not scheduled', () => {
    const p = created(pods, pod({ containers: [{ name: 'c', image: 'nginx' }], schedulingGates: [{ name: 'example.com/wait' }] }));
    assert.equal(p.status!.conditions![0].reason, 'SchedulingGated');
  });
});

describe('Pod validation', () => {
  const errorsOf = (spec: Partial<PodSpec>) => {
    const p = pod(spec);
    pods.defaults!(p);
    return texts(pods.validate!(p));
  };

  it('requires containers, names and images', () => {
    assert.deepEqual(errorsOf({ containers: [] }), ['spec.containers: Required value']);
    assert.deepEqual(errorsOf({ containers: [{ name: 'Web', image: 'nginx' }] }), [
      `spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    assert.deepEqual(
      errorsOf({
        containers: [
          { name: 'a', image: 'nginx' },
          { name: 'a', image: '' },
        ],
      }),
      ['spec.containers[1].image: Required value', 'spec.containers[1].name: Duplicate value: "a"'],
    );
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: ' nginx' }] }), [
      'spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace',
    ]);
  });

  it('checks ports', () => {
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx', ports: [{ containerPort: 70000 }] }] }), [
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
    assert.deepEqual(
      errorsOf({
        containers: [
          {
            name: 'a',
            image: 'nginx',
            ports: [
              { containerPort: 80, name: 'http' },
              { containerPort: 81, name: 'http' },
            ],
          },
        ],
      }),
      ['spec.containers[0].ports[1].name: Duplicate value: "http"'],
    );
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx', ports: [{ containerPort: 80, protocol: 'ICMP' }] }] }), [
      'spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ]);
  });

  it('checks volumes and mounts', () => {
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] }), [
      'spec.containers[0].volumeMounts[0].name: Not found: "data"',
    ]);
    assert.deepEqual(
      errorsOf({
        containers: [{ name: 'a', image: 'nginx' }],
        volumes: [
          { name: 'v', emptyDir: {} },
          { name: 'v', emptyDir: {} },
        ],
      }),
      ['spec.volumes[1].name: Duplicate value: "v"'],
    );
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx' }], volumes: [{ name: 'v', emptyDir: {}, hostPath: { path: '/x' } }] }), [
      'spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type',
    ]);
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx' }], volumes: [{ name: 'v', configMap: { name: '' } }] }), [
      'spec.volumes[0].configMap.name: Required value',
    ]);
  });

  it('checks policies', () => {
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx' }], restartPolicy: 'Sometimes' }), [
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx' }], dnsPolicy: 'Google' }), [
      'spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ]);
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx', imagePullPolicy: 'Sometimes' }] }), [
      'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
    ]);
  });

  it('checks resources', () => {
    assert.deepEqual(
      errorsOf({ containers: [{ name: 'a', image: 'nginx', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] }),
      ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'],
    );
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx', resources: { requests: { cpu: '-1' } } }] }), [
      'spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0',
    ]);
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx', resources: { requests: { storage: '1Gi' } } }] }), [
      'spec.containers[0].resources.requests[storage]: Invalid value: "storage": must be a standard resource for containers',
    ]);
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx', resources: { limits: { 'example.com/gpu': '1.5' } } }] }), [
      'spec.containers[0].resources.limits[example.com/gpu]: Invalid value: "1500m": must be an integer',
      'spec.containers[0].resources.requests[example.com/gpu]: Invalid value: "1500m": must be an integer',
    ]);
  });

  it('checks env and probes', () => {
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx', env: [{ name: '1ABC', value: 'x' }] }] }), [
      `spec.containers[0].env[0].name: Invalid value: "1ABC": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')`,
    ]);
    assert.deepEqual(
      errorsOf({ containers: [{ name: 'a', image: 'nginx', livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } }] }),
      ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1'],
    );
    assert.deepEqual(errorsOf({ containers: [{ name: 'a', image: 'nginx', readinessProbe: {} }] }), [
      'spec.containers[0].readinessProbe: Required value: must specify a handler type',
    ]);
  });

  it('allows only images, deadlines and added tolerations to change', () => {
    const old = created(pods, pod({ containers: [{ name: 'c', image: 'nginx:1.26' }] }));
    const next = copy(old);
    next.spec!.containers[0].image = 'nginx:1.27';
    next.spec!.activeDeadlineSeconds = 600;
    next.spec!.tolerations!.push({ key: 'example.com/x', operator: 'Exists' });
    assert.deepEqual(pods.validateUpdate!(next, old), []);

    const bad = copy(old);
    bad.spec!.restartPolicy = 'Never';
    const [err] = pods.validateUpdate!(bad, old);
    assert.equal(err.field, 'spec');
    assert.ok(
      err.message.startsWith(
        'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
      ),
      err.message,
    );

    const removed = copy(old);
    removed.spec!.tolerations = [];
    assert.deepEqual(texts(pods.validateUpdate!(removed, old)), [
      'spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds',
    ]);

    const more = copy(old);
    more.spec!.containers.push({ name: 'd', image: 'busybox' });
    pods.defaults!(more);
    assert.deepEqual(texts(pods.validateUpdate!(more, old)), ['spec.containers: Forbidden: pod updates may not add or remove containers']);
  });

  it('keeps the QoS class on status updates', () => {
    const old = created(pods, pod({ containers: [{ name: 'c', image: 'nginx' }] }));
    const next = copy(old);
    next.status!.qosClass = 'Guaranteed';
    assert.deepEqual(texts(pods.validateStatusUpdate!(next, old)), ['status.qosClass: Invalid value: "Guaranteed": field is immutable']);
  });

  it('deletes gracefully only pods that run on a node', () => {
    const p = created(pods, pod({ containers: [{ name: 'c', image: 'nginx' }] }));
    assert.equal(pods.gracePeriod!(p, undefined), 0);
    p.spec!.nodeName = 'node-1';
    assert.equal(pods.gracePeriod!(p, undefined), 30);
    assert.equal(pods.gracePeriod!(p, 5), 5);
    assert.equal(pods.gracePeriod!(p, -1), 1);
    p.status!.phase = 'Succeeded';
    assert.equal(pods.gracePeriod!(p, undefined), 0);
  });

  it('selects pods by the fields Kubernetes does', () => {
    const p = created(pods, pod({ containers: [{ name: 'c', image: 'nginx' }], nodeName: 'node-1' }));
    p.status!.podIPs = [{ ip: '10.244.0.7' }];
    const f = pods.fieldSelectors!;
    assert.deepEqual(Object.keys(f).sort(), [
      'spec.hostNetwork',
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'status.nominatedNodeName',
      'status.phase',
      'status.podIP',
    ]);
    assert.equal(f['spec.nodeName'](p), 'node-1');
    assert.equal(f['spec.hostNetwork'](p), 'false');
    assert.equal(f['status.phase'](p), 'Pending');
    assert.equal(f['status.podIP'](p), '10.244.0.7');
  });
});

describe('Pod table', () => {
  const base = () => {
    const p = created(pods, pod({ containers: [{ name: 'c', image: 'nginx' }] }));
    p.metadata.creationTimestamp = ago(3600);
    return p;
  };

  it('prints a pending pod with <none> in the wide cells', () => {
    assert.deepEqual(pods.table.row(base(), NOW), ['p', '0/1', 'Pending', '0', '60m', '<none>', '<none>', '<none>', '<none>']);
    assert.deepEqual(
      pods.table.columns.map((c) => [c.name, c.type, c.priority]),
      [
        ['Name', 'string', 0],
        ['Ready', 'string', 0],
        ['Status', 'string', 0],
        ['Restarts', 'string', 0],
        ['Age', 'string', 0],
        ['IP', 'string', 1],
        ['Node', 'string', 1],
        ['Nominated Node', 'string', 1],
        ['Readiness Gates', 'string', 1],
      ],
    );
  });

  it('prints a running pod with its restarts and when the last one was', () => {
    const p = base();
    p.spec!.nodeName = 'node-1';
    p.spec!.readinessGates = [{ conditionType: 'example.com/ready' }];
    p.status = {
      phase: 'Running',
      podIPs: [{ ip: '10.244.0.7' }],
      conditions: [{ type: 'example.com/ready', status: 'True' }],
      containerStatuses: [
        {
          name: 'c',
          ready: true,
          restartCount: 5,
          image: 'nginx',
          imageID: '',
          state: { running: { startedAt: ago(300) } },
          lastState: { terminated: { exitCode: 1, finishedAt: ago(300) } },
        },
      ],
    };
    assert.deepEqual(pods.table.row(p, NOW), ['p', '1/1', 'Running', '5 (5m ago)', '60m', '10.244.0.7', 'node-1', '<none>', '1/1']);
  });

  it('prints waiting reasons, init progress and termination', () => {
    const waiting = base();
    waiting.status = {
      phase: 'Running',
      containerStatuses: [
        { name: 'c', ready: false, restartCount: 0, image: 'nginx', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } } },
      ],
    };
    assert.equal(pods.table.row(waiting, NOW)[2], 'CrashLoopBackOff');

    const init = base();
    init.spec!.initContainers = [{ name: 'init', image: 'busybox' }];
    init.status = {
      phase: 'Pending',
      initContainerStatuses: [{ name: 'init', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { running: {} } }],
    };
    assert.equal(pods.table.row(init, NOW)[2], 'Init:0/1');

    const failedInit = base();
    failedInit.spec!.initContainers = [{ name: 'init', image: 'busybox' }];
    failedInit.status = {
      phase: 'Pending',
      initContainerStatuses: [
        { name: 'init', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { terminated: { exitCode: 2 } } },
      ],
    };
    assert.equal(pods.table.row(failedInit, NOW)[2], 'Init:ExitCode:2');

    const done = base();
    done.status = {
      phase: 'Succeeded',
      containerStatuses: [
        { name: 'c', ready: false, restartCount: 0, image: 'nginx', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      ],
    };
    assert.equal(pods.table.row(done, NOW)[2], 'Completed');

    const terminating = base();
    terminating.metadata.deletionTimestamp = ago(0);
    assert.equal(pods.table.row(terminating, NOW)[2], 'Terminating');
  });
});

describe('PersistentVolumeClaim', () => {
  function claim(): PersistentVolumeClaim {
    return {
      metadata: { name: 'data', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    } as PersistentVolumeClaim;
  }

  it('defaults the volume mode and starts Pending', () => {
    const c = created(pvcs, claim());
    assert.equal(c.spec!.volumeMode, 'Filesystem');
    assert.deepEqual(c.status, { phase: 'Pending' });
    assert.deepEqual(pvcs.validate!(c), []);
  });

  it('validates access modes, storage and volume mode', () => {
    const errorsOf = (mutate: (c: PersistentVolumeClaim) => void) => {
      const c = claim();
      mutate(c);
      pvcs.defaults!(c);
      return texts(pvcs.validate!(c));
    };
    assert.deepEqual(errorsOf((c) => delete c.spec!.accessModes), ['spec.accessModes: Required value: at least 1 access mode is required']);
    assert.deepEqual(errorsOf((c) => (c.spec!.accessModes = ['ReadWriteSometimes'])), [
      'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    ]);
    assert.deepEqual(errorsOf((c) => (c.spec!.accessModes = ['ReadWriteOncePod', 'ReadWriteOnce'])), [
      'spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes',
    ]);
    assert.deepEqual(errorsOf((c) => (c.spec!.resources = {})), ['spec.resources[storage]: Required value']);
    assert.deepEqual(errorsOf((c) => (c.spec!.resources = { requests: { storage: '0' } })), [
      'spec.resources[storage]: Invalid value: "0": must be greater than zero',
    ]);
    assert.deepEqual(errorsOf((c) => (c.spec!.volumeMode = 'Raw')), [
      'spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"',
    ]);
  });

  it('lets a bound claim grow, and nothing else change', () => {
    const old = created(pvcs, claim());
    old.status = { phase: 'Bound', capacity: { storage: '1Gi' } };
    const grown = copy(old);
    grown.spec!.resources!.requests!.storage = '2Gi';
    assert.deepEqual(pvcs.validateUpdate!(grown, old), []);

    const bound = copy(old);
    bound.spec!.volumeName = 'pv-1';
    assert.deepEqual(pvcs.validateUpdate!(bound, old), []);

    const changed = copy(old);
    changed.spec!.accessModes = ['ReadWriteMany'];
    const errs = pvcs.validateUpdate!(changed, old);
    assert.equal(errs.length, 1);
    assert.equal(errs[0].field, 'spec');
    assert.ok(
      errs[0].message.startsWith(
        'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n',
      ),
    );

    const pending = created(pvcs, claim());
    const resized = copy(pending);
    resized.spec!.resources!.requests!.storage = '2Gi';
    assert.equal(pvcs.validateUpdate!(resized, pending)[0].field, 'spec');
  });

  it('prints the claim as kubectl does', () => {
    const c = created(pvcs, claim());
    c.metadata.creationTimestamp = ago(90);
    c.spec!.storageClassName = 'local-path';
    assert.deepEqual(pvcs.table.row(c, NOW), ['data', 'Pending', '', '', '', 'local-path', '<unset>', '90s', 'Filesystem']);
    c.spec!.volumeName = 'pvc-123';
    c.status = { phase: 'Bound', accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'], capacity: { storage: '1024Mi' } };
    assert.deepEqual(pvcs.table.row(c, NOW), ['data', 'Bound', 'pvc-123', '1Gi', 'RWO,RWOP', 'local-path', '<unset>', '90s', 'Filesystem']);
    assert.deepEqual(
      pvcs.table.columns.map((col) => col.name),
      ['Name', 'Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age', 'VolumeMode'],
    );
    assert.equal(pvcs.table.columns.at(-1)!.priority, 1);
    assert.equal(pvcs.fieldSelectors!.name(c), 'data');
  });
});

describe('ControllerRevision', () => {
  function revision(): ControllerRevision {
    return {
      metadata: {
        name: 'web-6d4b8c5f9',
        namespace: 'default',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true }],
        creationTimestamp: ago(7200),
      },
      data: { spec: { template: {} } },
      revision: 2,
    };
  }

  it('requires data and a non-negative revision', () => {
    const r = revision();
    delete r.data;
    r.revision = -1;
    assert.deepEqual(texts(controllerrevisions.validate!(r)), [
      'data: Required value: data is mandatory',
      'revision: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });

  it('keeps data immutable', () => {
    const old = revision();
    const next = copy(old);
    next.data = { spec: { template: { metadata: {} } } };
    assert.deepEqual(texts(controllerrevisions.validateUpdate!(next, old)), [
      'data: Invalid value: {"spec":{"template":{"metadata":{}}}}: field is immutable',
    ]);
  });

  it('prints the controlling object with its group', () => {
    assert.deepEqual(controllerrevisions.table.row(revision(), NOW), ['web-6d4b8c5f9', 'statefulset.apps/web', 2, '120m']);
    const orphan = revision();
    delete orphan.metadata.ownerReferences;
    assert.equal(controllerrevisions.table.row(orphan, NOW)[1], '<none>');
  });
});
