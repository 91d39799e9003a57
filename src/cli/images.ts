// `berth image import|ls|rm`: the local image store from the command line, printed as
// `docker images` and `crictl images` print it. Works beside a running berth (the store locks).
import { importArchive } from '../node/images/archive.js';
import { parseReference, repositoryOf } from '../node/images/reference.js';
import { type Image, ImageStore } from '../node/images/store.js';

/** Docker's HumanSize: three significant digits, decimal units. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let n = bytes;
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return `${Number(n.toPrecision(3))}${units[u]}`;
}

/** Columns padded as Go's tabwriter pads them (three spaces past the widest cell). */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 3))).join('')).join('\n') + '\n';
}

export function imagesTable(images: Image[]): string {
  const rows = [['REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE']];
  for (const image of images) {
    const ref = parseReference(image.reference);
    rows.push([repositoryOf(ref), ref.tag ?? '<none>', image.id.replace(/^sha256:/, '').slice(0, 12), humanSize(image.size)]);
  }
  return table(rows);
}

export async function imageImport(file: string, opts: { dataDir: string }): Promise<void> {
  const result = await importArchive(await ImageStore.open(opts.dataDir), file);
  for (const image of result.images) process.stdout.write(`Loaded image: ${image.reference}\n`);
  for (const reason of result.skipped) process.stderr.write(`berth: skipped: ${reason}\n`);
  if (!result.images.length) throw new Error(`${file} holds no image that could be imported`);
}

export async function imageList(opts: { dataDir: string }): Promise<void> {
  process.stdout.write(imagesTable(await (await ImageStore.open(opts.dataDir)).list()));
}

export async function imageRemove(refs: string[], opts: { dataDir: string }): Promise<void> {
  const store = await ImageStore.open(opts.dataDir);
  for (const ref of refs) {
    for (const removed of await store.remove(ref)) process.stdout.write(`Untagged: ${removed}\n`);
  }
}
