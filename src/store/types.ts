// The store: a revision log in the shape of etcd's MVCC model. Every write gets
// the next global revision, which the API server uses as resourceVersion.
// Both backends (SQLite, etcd) implement this interface unchanged.

export interface KeyValue {
  key: string;
  /** The serialized object. */
  value: string;
  /** Revision of the write that created the key (unchanged by updates). */
  createRevision: number;
  /** Revision of the last write to the key; for a delete event, the delete's revision. */
  modRevision: number;
}

export interface StoreEvent {
  type: 'put' | 'delete';
  /** For a delete: the last value, with modRevision set to the delete's revision. */
  kv: KeyValue;
  /** The value before this write, when there was one. */
  prevKv?: KeyValue;
}

export interface ListOptions {
  /** Read at this revision (0 or absent: the latest). */
  revision?: number;
  /** Return at most this many keys (0 or absent: all). */
  limit?: number;
  /** Start strictly after this key (for pagination). */
  after?: string;
}

export interface ListResult {
  kvs: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** True when keys beyond the limit exist. */
  more: boolean;
}

export interface WatchHandlers {
  /** Events in revision order, each batch from one commit. */
  events(events: StoreEvent[]): void;
  /** The store reached `revision` (sent after every commit, also when nothing matched). */
  progress?(revision: number): void;
  /** The watch ended (store closed or failed). */
  closed?(err?: Error): void;
}

export interface Watch {
  stop(): void;
}

export type StoreErrorCode = 'KeyExists' | 'Conflict' | 'NotFound' | 'Compacted' | 'FutureRevision' | 'Closed';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** For Conflict: the current value of the key. */
    readonly current?: KeyValue,
  ) {
    super(message);
  }
}

export interface Store {
  /** The latest revision. */
  revision(): Promise<number>;
  /** The oldest revision still readable; reads and watches before it fail with Compacted. */
  compactRevision(): Promise<number>;
  get(key: string, revision?: number): Promise<KeyValue | undefined>;
  /** Keys starting with `prefix`, in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Creates `key`; fails with KeyExists if it exists. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Replaces `key` if its modRevision is `expectedRevision`; Conflict (with the current value) otherwise. */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;
  /** Deletes `key` (if `expectedRevision` is given, only at that revision). Returns the deleted value
   *  with modRevision set to the delete's revision. */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;
  /** Events for keys under `prefix` with revision > `afterRevision`, then live ones.
   *  Fails with Compacted when `afterRevision` < compactRevision(). */
  watch(prefix: string, afterRevision: number, handlers: WatchHandlers): Promise<Watch>;
  /** Forgets history at and before `revision` (the latest value of each key stays). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

/** The end of the key range for a prefix: the smallest string greater than every key with that prefix. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
