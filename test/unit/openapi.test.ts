import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KindDef, ScaleDef, KubeObject } from '../../src/api/types.js';
import { openapiV2, openapiV3GroupVersion, openapiV3Hash, openapiV3Index } from '../../src/apiserver/openapi.js';

const table = { columns: [], row: () => [] };
const scale: ScaleDef<KubeObject> = {
  specReplicas: () => 1,
  setSpecReplicas: () => undefined,
  statusReplicas: () => 1,
  selector: () => '',
};
function kind(group: string, version: string, k: string, resource: string, namespaced: boolean, extra: Partial<KindDef> = {}): KindDef {
  return { group, version, kind: k, resource, singular: k.toLowerCase(), namespaced, table, ...extra };
}

const kinds: KindDef[] = [
  kind('', 'v1', 'Namespace', 'namespaces', false, { statusSubresource: true }),
  kind('', 'v1', 'Pod', 'pods', true, { statusSubresource: true }),
  kind('', 'v1', 'Binding', 'bindings', true),
  kind('', 'v1', 'Event', 'events', true),
  kind('apps', 'v1', 'StatefulSet', 'statefulsets', true, { statusSubresource: true, scale }),
  kind('apps', 'v1', 'ControllerRevision', 'controllerrevisions', true),
  kind('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false),
  kind('events.k8s.io', 'v1', 'Event', 'events', true),
];

type Doc = Record<string, any>;
const json = (b: Buffer | undefined): Doc => {
  assert.ok(b);
  return JSON.parse(b.toString('utf8')) as Doc;
};

/** Every PATCH operation of a document that is for `gvk`, as kubectl's verifiers find them. */
function patchOperations(doc: Doc, gvk: { group: string; version: string; kind: string }): Doc[] {
  return Object.values(doc.paths as Record<string, Doc>)
    .map((item) => item.patch)
    .filter((op) => {
      const e = op?.['x-kubernetes-group-version-kind'];
      return e && e.group === gvk.group && e.version === gvk.version && e.kind === gvk.kind;
    });
}

function assertRefsResolve(doc: Doc, prefix: string, defs: Record<string, unknown>): void {
  const visit = (s: unknown): void => {
    if (Array.isArray(s)) s.forEach(visit);
    else if (s && typeof s === 'object') {
      for (const [k, v] of Object.entries(s)) {
        if (k === '$ref') {
          assert.ok(String(v).startsWith(prefix), `${v} under ${prefix}`);
          assert.ok(defs[String(v).slice(prefix.length)], `dangling ${v}`);
        } else visit(v);
      }
    }
  };
  visit(doc);
}

test('the v3 index lists each group version with a content-hashed URL', () => {
  const index = json(openapiV3Index(kinds));
  for (const key of ['api/v1', 'apis/apps/v1', 'apis/storage.k8s.io/v1', 'apis/events.k8s.io/v1']) {
    const url: string = index.paths[key].serverRelativeURL;
    assert.match(url, new RegExp(`^/openapi/v3/${key.replace(/\./g, '\\.')}\\?hash=[0-9A-F]{128}$`));
    assert.equal(url.split('hash=')[1], openapiV3Hash(kinds, key));
    assert.ok(openapiV3GroupVersion(kinds, key));
  }
  assert.equal(openapiV3GroupVersion(kinds, 'apis/batch/v1'), undefined);
  // Built once: the same bytes on every call.
  assert.equal(openapiV3Index(kinds), openapiV3Index(kinds));
  assert.equal(openapiV3GroupVersion(kinds, 'apis/apps/v1'), openapiV3GroupVersion(kinds, '/apis/apps/v1'));
});

test('apis/apps/v1 has the StatefulSet PATCH operation kubectl looks for', () => {
  const doc = json(openapiV3GroupVersion(kinds, 'apis/apps/v1'));
  assert.equal(doc.openapi, '3.0.0');
  const item = doc.paths['/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}'];
  const patch = item.patch;
  assert.equal(patch.operationId, 'patchAppsV1NamespacedStatefulSet');
  assert.equal(patch['x-kubernetes-action'], 'patch');
  assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'StatefulSet', version: 'v1' });
  const query = patch.parameters.filter((p: Doc) => p.in === 'query').map((p: Doc) => p.name);
  for (const name of ['dryRun', 'fieldManager', 'fieldValidation', 'force']) assert.ok(query.includes(name), name);
  assert.deepEqual(Object.keys(patch.requestBody.content).sort(), [
    'application/apply-patch+yaml',
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/strategic-merge-patch+json',
  ]);
  assert.deepEqual(item.parameters.map((p: Doc) => `${p.in}:${p.name}`), ['path:name', 'path:namespace', 'query:pretty']);

  // kubectl's query-param verifier and apply check every PATCH for the kind (main resource and status).
  const ops = patchOperations(doc, { group: 'apps', version: 'v1', kind: 'StatefulSet' });
  assert.equal(ops.length, 2);
  for (const op of ops) {
    assert.ok(op.parameters.some((p: Doc) => p.name === 'fieldValidation' && p.in === 'query'));
    assert.ok(op.requestBody.content['application/strategic-merge-patch+json']);
  }
  // The scale subresource speaks autoscaling/v1 Scale.
  const scaleOp = doc.paths['/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/scale'].put;
  assert.deepEqual(scaleOp['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });

  const list = doc.paths['/apis/apps/v1/namespaces/{namespace}/statefulsets'];
  assert.equal(list.get['x-kubernetes-action'], 'list');
  assert.equal(list.post['x-kubernetes-action'], 'post');
  assert.equal(list.delete['x-kubernetes-action'], 'deletecollection');
  assert.ok(list.post.parameters.some((p: Doc) => p.name === 'fieldValidation'));
});

test('v3 components hold the kinds with their group-version-kinds and patch metadata', () => {
  const doc = json(openapiV3GroupVersion(kinds, 'apis/apps/v1'));
  const schemas = doc.components.schemas as Record<string, Doc>;
  assertRefsResolve(doc, '#/components/schemas/', schemas);
  assert.deepEqual(schemas['io.k8s.api.apps.v1.StatefulSet']!['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'StatefulSet', version: 'v1' }]);
  assert.ok(schemas['io.k8s.api.autoscaling.v1.Scale']);
  assert.equal(schemas['io.k8s.api.core.v1.Service'], undefined, 'only the schemas this group version uses');

  // Walk spec.template.spec.containers the way kubectl's PatchMetaFromOpenAPIV3 does.
  const deref = (s: Doc): Doc => {
    const r = s.$ref ?? s.allOf?.[0]?.$ref;
    return r ? schemas[r.replace('#/components/schemas/', '')]! : s;
  };
  let s = deref(schemas['io.k8s.api.apps.v1.StatefulSet']!.properties.spec);
  s = deref(s.properties.template);
  s = deref(s.properties.spec);
  const containers = s.properties.containers;
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.match(deref(containers.items).description, /container/);
  // A $ref with a description is wrapped in allOf, as kube-openapi writes v3.
  assert.deepEqual(s.properties.securityContext.allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSecurityContext' }]);
  assert.deepEqual(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString']!.oneOf, [{ type: 'integer' }, { type: 'string' }]);
});

test('api/v1 covers core kinds, the pod binding subresource and create-only bindings', () => {
  const doc = json(openapiV3GroupVersion(kinds, 'api/v1'));
  assertRefsResolve(doc, '#/components/schemas/', doc.components.schemas);
  assert.equal(doc.paths['/api/v1/namespaces/{name}'].patch.operationId, 'patchCoreV1Namespace');
  assert.equal(doc.paths['/api/v1/namespaces/{namespace}/pods'].get.operationId, 'listCoreV1NamespacedPod');
  assert.equal(doc.paths['/api/v1/pods'].get.operationId, 'listCoreV1PodForAllNamespaces');
  assert.deepEqual(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding'].post['x-kubernetes-group-version-kind'], { group: '', kind: 'Binding', version: 'v1' });
  assert.deepEqual(Object.keys(doc.paths['/api/v1/namespaces/{namespace}/bindings']).sort(), ['parameters', 'post']);
  assert.equal(doc.paths['/api/v1/namespaces/{namespace}/bindings/{name}'], undefined);
  assert.deepEqual(patchOperations(doc, { group: '', version: 'v1', kind: 'Pod' }).length, 2);
});

test('/openapi/v2 is a Swagger 2.0 document with the same operations', () => {
  const doc = json(openapiV2(kinds));
  assert.equal(doc.swagger, '2.0');
  assertRefsResolve(doc, '#/definitions/', doc.definitions);
  const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}'].patch;
  assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'StatefulSet', version: 'v1' });
  assert.ok(patch.consumes.includes('application/strategic-merge-patch+json'));
  assert.ok(patch.parameters.some((p: Doc) => p.in === 'query' && p.name === 'fieldValidation' && p.type === 'string'));
  assert.equal(patch.parameters.find((p: Doc) => p.in === 'body').schema.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
  assert.ok(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/status']);
  assert.ok(doc.paths['/apis/events.k8s.io/v1/namespaces/{namespace}/events']);
  const def = doc.definitions['io.k8s.api.core.v1.PodSpec'];
  assert.equal(def.properties.containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(doc.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']['x-kubernetes-int-or-string'], undefined);
  assert.equal(openapiV2(kinds), openapiV2(kinds));
});
