// The embedded store: a revision log in one SQLite file, shaped like k3s's kine.
// Each write appends a row whose id is the new revision; a delete appends a
// tombstone row carrying the last value. Writes are group-committed: every write
// queued during one turn of the event loop goes into one transaction and one
// fsync, so concurrent clients share the cost of durability.
import Database from 'better-sqlite3';
import {
  prefixEnd,
  StoreError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type StoreEvent,
  type Watch,
  type WatchHandlers,
} from '../types.js';

interface Row {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

type WriteOp =
  | { op: 'create'; key: string; value: string }
  | { op: 'update'; key: string; value: string; expected: number }
  | { op: 'delete'; key: string; expected?: number };

interface Pending {
  write: WriteOp;
  resolve(kv: KeyValue): void;
  reject(err: Error): void;
}

interface Watcher {
  prefix: string;
  end: string;
  handlers: WatchHandlers;
}

const toKv = (r: Row, revision = r.id): KeyValue => ({
  key: r.name,
  value: r.value,
  createRevision: r.created ? r.id : r.create_revision,
  modRevision: revision,
});

export interface SqliteStoreOptions {
  /** fsync on every commit (default true): an acknowledged write survives a crash of the machine. */
  durable?: boolean;
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly stmt: Record<string, Database.Statement>;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private watchers = new Set<Watcher>();
  private currentRevision: number;
  private compacted: number;
  private closed = false;

  constructor(file: string, opts: SqliteStoreOptions = {}) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.durable === false ? 'NORMAL' : 'FULL'}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS kv (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        created INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        create_revision INTEGER NOT NULL,
        prev_revision INTEGER NOT NULL,
        value TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    const s = (sql: string) => this.db.prepare(sql);
    this.stmt = {
      latest: s('SELECT * FROM kv WHERE name = ? ORDER BY id DESC LIMIT 1'),
      at: s('SELECT * FROM kv WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1'),
      byId: s('SELECT * FROM kv WHERE id = ?'),
      insert: s(
        'INSERT INTO kv (name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // SQLite takes the bare columns from the row holding MAX(id).
      list: s(
        `SELECT id, name, created, deleted, create_revision, prev_revision, value, MAX(id) AS id FROM kv
         WHERE name >= ? AND name > ? AND name < ? AND id <= ? GROUP BY name HAVING deleted = 0 ORDER BY name LIMIT ?`,
      ),
      history: s('SELECT * FROM kv WHERE id > ? AND name >= ? AND name < ? ORDER BY id'),
      maxId: s('SELECT MAX(id) AS id FROM kv'),
      seq: s("SELECT seq FROM sqlite_sequence WHERE name = 'kv'"),
      getMeta: s('SELECT value FROM meta WHERE key = ?'),
      setMeta: s('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      compact: s(
        `DELETE FROM kv WHERE id <= @rev AND (deleted = 1 OR
           id < (SELECT MAX(k2.id) FROM kv AS k2 WHERE k2.name = kv.name AND k2.id <= @rev))`,
      ),
    };
    // The sequence survives compaction, so revisions never repeat.
    const seq = this.stmt.seq.get() as { seq: number } | undefined;
    this.currentRevision = seq?.seq ?? 0;
    this.compacted = (this.stmt.getMeta.get('compact_revision') as { value: number } | undefined)?.value ?? 0;
  }

  async revision(): Promise<number> {
    return this.currentRevision;
  }

  async compactRevision(): Promise<number> {
    return this.compacted;
  }

  private checkRead(revision: number | undefined): number {
    this.checkOpen();
    const rev = revision || this.currentRevision;
    if (rev > this.currentRevision)
      throw new StoreError('FutureRevision', `revision ${rev} is newer than the store (${this.currentRevision})`);
    if (revision && rev < this.compacted)
      throw new StoreError('Compacted', `revision ${rev} has been compacted (oldest is ${this.compacted})`);
    return rev;
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const rev = this.checkRead(revision);
    const row = this.stmt.at.get(key, rev) as Row | undefined;
    return row && !row.deleted ? toKv(row) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const rev = this.checkRead(opts.revision);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : -1;
    const rows = this.stmt.list.all(prefix, opts.after ?? '', prefixEnd(prefix), rev, limit > 0 ? limit + 1 : -1) as Row[];
    const more = limit > 0 && rows.length > limit;
    if (more) rows.length = limit;
    return { kvs: rows.map((r) => toKv(r)), revision: rev, more };
  }

  create(key: string, value: string): Promise<KeyValue> {
    return this.enqueue({ op: 'create', key, value });
  }

  update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.enqueue({ op: 'update', key, value, expected: expectedRevision });
  }

  delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.enqueue({ op: 'delete', key, expected: expectedRevision });
  }

  private enqueue(write: WriteOp): Promise<KeyValue> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new StoreError('Closed', 'store is closed'));
      this.pending.push({ write, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Applies one write inside the open transaction; returns the event or the error for this write alone. */
  private apply(w: WriteOp): StoreEvent | StoreError {
    const cur = this.stmt.latest.get(w.key) as Row | undefined;
    const live = cur && !cur.deleted ? cur : undefined;
    if (w.op === 'create') {
      if (live) return new StoreError('KeyExists', `key ${w.key} exists`, toKv(live));
      const id = Number(this.stmt.insert.run(w.key, 1, 0, 0, cur?.id ?? 0, w.value).lastInsertRowid);
      return { type: 'put', kv: { key: w.key, value: w.value, createRevision: id, modRevision: id } };
    }
    if (!live) return new StoreError('NotFound', `key ${w.key} not found`);
    const prevKv = toKv(live);
    if (w.expected !== undefined && w.expected !== live.id)
      return new StoreError('Conflict', `key ${w.key} is at revision ${live.id}, not ${w.expected}`, prevKv);
    const createRevision = prevKv.createRevision;
    if (w.op === 'update') {
      const id = Number(this.stmt.insert.run(w.key, 0, 0, createRevision, live.id, w.value).lastInsertRowid);
      return { type: 'put', kv: { key: w.key, value: w.value, createRevision, modRevision: id }, prevKv };
    }
    const id = Number(this.stmt.insert.run(w.key, 0, 1, createRevision, live.id, live.value).lastInsertRowid);
    return { type: 'delete', kv: { key: w.key, value: live.value, createRevision, modRevision: id }, prevKv };
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let results: (StoreEvent | StoreError)[];
    try {
      results = this.db.transaction(() => batch.map((p) => this.apply(p.write)))();
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
      return;
    }
    const events = results.filter((r): r is StoreEvent => !(r instanceof StoreError));
    if (events.length) this.currentRevision = events[events.length - 1].kv.modRevision;
    this.notify(events);
    batch.forEach((p, i) => {
      const r = results[i];
      if (r instanceof StoreError) p.reject(r);
      else p.resolve(r.kv);
    });
  }

  /**
   * Tells watchers about committed events in revision order across all of them (a claim committed
   * before a pod reaches its watchers before the pod does), then about the new revision.
   */
  private notify(events: StoreEvent[]): void {
    const drop = (w: Watcher, err: unknown) => {
      // A watcher that throws is dropped rather than allowed to break the commit path.
      this.watchers.delete(w);
      w.handlers.closed?.(err as Error);
    };
    // Consecutive events for the same watchers go out as one batch.
    let run: StoreEvent[] = [];
    let runWatchers: Watcher[] = [];
    const flush = () => {
      for (const w of runWatchers)
        try {
          if (this.watchers.has(w)) w.handlers.events(run);
        } catch (err) {
          drop(w, err);
        }
    };
    for (const e of events) {
      const matching = [...this.watchers].filter((w) => e.kv.key >= w.prefix && e.kv.key < w.end);
      if (matching.length !== runWatchers.length || matching.some((w, i) => w !== runWatchers[i])) {
        flush();
        run = [];
        runWatchers = matching;
      }
      run.push(e);
    }
    flush();
    for (const w of this.watchers)
      try {
        w.handlers.progress?.(this.currentRevision);
      } catch (err) {
        drop(w, err);
      }
  }

  async watch(prefix: string, afterRevision: number, handlers: WatchHandlers): Promise<Watch> {
    this.checkOpen();
    if (afterRevision < this.compacted)
      throw new StoreError('Compacted', `revision ${afterRevision} has been compacted (oldest is ${this.compacted})`);
    const end = prefixEnd(prefix);
    // Reading history and registering happen in one synchronous step, so no commit falls between them.
    if (afterRevision < this.currentRevision) {
      const rows = this.stmt.history.all(afterRevision, prefix, end) as Row[];
      const events = rows.map((r): StoreEvent => {
        const prev = r.prev_revision ? (this.stmt.byId.get(r.prev_revision) as Row | undefined) : undefined;
        const prevKv = prev && !prev.deleted ? toKv(prev) : undefined;
        return { type: r.deleted ? 'delete' : 'put', kv: toKv(r), prevKv: r.created ? undefined : prevKv };
      });
      if (events.length) handlers.events(events);
    }
    const watcher: Watcher = { prefix, end, handlers };
    this.watchers.add(watcher);
    return { stop: () => void this.watchers.delete(watcher) };
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    const rev = Math.min(revision, this.currentRevision);
    if (rev <= this.compacted) return;
    this.db.transaction(() => {
      this.stmt.compact.run({ rev });
      this.stmt.setMeta.run('compact_revision', rev);
    })();
    this.compacted = rev;
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError('Closed', 'store is closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length) this.flush();
    this.closed = true;
    for (const w of this.watchers) w.handlers.closed?.();
    this.watchers.clear();
    this.db.close();
  }
}
