// Builds small image archives for tests: layer tars written entry by entry with the `tar`
// package's headers (so a test can put anything in them, hostile paths included), wrapped as
// `docker save` or OCI image-layout archives.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';

export interface TarEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  mode?: number;
  body?: string | Buffer;
  linkpath?: string;
}

export function tarball(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'File';
    const header = new Header({
      path: e.path,
      type,
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      size: type === 'File' ? body.length : 0,
      linkpath: e.linkpath,
      uid: 0,
      gid: 0,
      mtime: new Date('2024-01-01T00:00:00Z'),
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File' && body.length) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export function digestOf(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A busybox-like image in two layers: the upper one deletes a file and makes /etc/app opaque. */
export function fakeBusybox(): Buffer[] {
  const lower = tarball([
    { path: 'bin/', type: 'Directory' },
    { path: 'bin/busybox', mode: 0o755, body: '#!/bin/sh\necho busybox\n' },
    { path: 'bin/sh', type: 'SymbolicLink', linkpath: 'busybox' },
    { path: 'bin/ls', type: 'Link', linkpath: 'bin/busybox' },
    { path: 'etc/', type: 'Directory' },
    { path: 'etc/passwd', body: 'root:x:0:0:root:/root:/bin/sh\n' },
    { path: 'etc/motd', body: 'welcome\n' },
    { path: 'etc/app/', type: 'Directory' },
    { path: 'etc/app/old.conf', body: 'old\n' },
    { path: 'tmp/', type: 'Directory', mode: 0o1777 },
  ]);
  const upper = tarball([
    { path: 'etc/', type: 'Directory' },
    { path: 'etc/.wh.motd' },
    { path: 'etc/app/', type: 'Directory' },
    { path: 'etc/app/.wh..wh..opq' },
    { path: 'etc/app/new.conf', body: 'new\n' },
    { path: 'root/', type: 'Directory', mode: 0o700 },
    { path: 'root/.profile', mode: 0o600, body: 'export PS1=#\n' },
  ]);
  return [lower, upper];
}

function imageConfig(layers: Buffer[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => digestOf(l)) },
    }),
  );
}

/** A `docker save` archive (the classic layout: `<id>/layer.tar`), the upper layer gzipped. */
export function dockerSaveArchive(repoTags: string[], layers = fakeBusybox()): Buffer {
  const config = imageConfig(layers);
  const configName = `${digestOf(config).slice(7)}.json`;
  const files: TarEntry[] = [{ path: configName, body: config }];
  const layerNames: string[] = [];
  layers.forEach((layer, i) => {
    const name = `layer${i}/layer.tar`;
    files.push({ path: `layer${i}/`, type: 'Directory' }, { path: name, body: i === layers.length - 1 ? gzipSync(layer) : layer });
    layerNames.push(name);
  });
  files.push({ path: 'manifest.json', body: JSON.stringify([{ Config: configName, RepoTags: repoTags, Layers: layerNames }]) });
  return tarball(files);
}

/** An OCI image-layout archive naming its image as Docker 25+ and containerd do. */
export function ociArchive(name: string, layers = fakeBusybox()): Buffer {
  const config = imageConfig(layers);
  const blobs = new Map<string, Buffer>();
  const put = (data: Buffer): { digest: string; size: number } => {
    const digest = digestOf(data);
    blobs.set(digest, data);
    return { digest, size: data.length };
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(config) },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(gzipSync(l)) })),
    }),
  );
  const m = put(manifest);
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...m,
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
      },
    ],
  };
  return tarball([
    { path: 'oci-layout', body: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { path: 'index.json', body: JSON.stringify(index) },
    { path: 'blobs/', type: 'Directory' },
    { path: 'blobs/sha256/', type: 'Directory' },
    ...[...blobs].map(([digest, body]) => ({ path: `blobs/sha256/${digest.slice(7)}`, body })),
  ]);
}
