/**
 * DynamoDB keeps every item in a global secondary index, however many share its key there.
 * dynalite (4.0.0) keys an index entry by the index's key plus a 24-bit hash of the table's key,
 * so two items whose index keys are equal (a status and a timestamp, say) and whose table keys
 * hash alike overwrite each other in the index: one of them silently drops out of every query of
 * it. With a thousand items under one index key that happens about once in thirty; with ten
 * thousand, two or three items go missing. This makes dynalite key index entries by the index's
 * key plus the whole table key, as unique as the item itself, for writes, deletes and the start
 * key of a paged query alike. It replaces the two functions dynalite's actions call through its
 * `db` module (`updateIndexes`, `createIndexKey`), in this process and in a bundle alike, and
 * refuses to run against a dynalite whose module no longer has them.
 */
import db from 'dynalite/db/index.js';

interface Table {
  TableName: string;
  KeySchema: { AttributeName: string }[];
  LocalSecondaryIndexes?: Index[];
  GlobalSecondaryIndexes?: Index[];
}
interface Index {
  IndexName: string;
  KeySchema: { AttributeName: string }[];
  Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
}
type Item = Record<string, unknown>;
type Callback = (error?: unknown) => void;
interface IndexDb {
  put(key: string, value: Item, callback: Callback): void;
  del(key: string, callback: Callback): void;
}
interface Store {
  getIndexDb(type: 'Local' | 'Global', tableName: string, indexName: string): IndexDb;
}
interface DynaliteDb {
  createKey(item: Item, table: Table, keySchema?: Index['KeySchema']): string;
  createIndexKey(item: Item, table: Table, keySchema: Index['KeySchema']): string;
  updateIndexes(
    store: Store,
    table: Table,
    existing: Item | null | undefined,
    item: Item | null | undefined,
    callback: Callback,
  ): void;
}

const dynaliteDb = db as unknown as DynaliteDb;
for (const name of ['createKey', 'createIndexKey', 'updateIndexes'] as const) {
  if (typeof dynaliteDb[name] !== 'function') {
    throw new Error(
      `dynalite's db module has no ${name}: check sandbox/aws/dynalite-index-keys.ts`,
    );
  }
}

/** An index entry's key: the index's key, then the item's whole table key. */
function createIndexKey(item: Item, table: Table, keySchema: Index['KeySchema']): string {
  return dynaliteDb.createKey(item, table, keySchema) + dynaliteDb.createKey(item, table);
}

/** What an index holds of an item: everything, or its keys and the projected attributes. */
function projected(item: Item, table: Table, index: Index): Item {
  if (index.Projection.ProjectionType === 'ALL') return item;
  const names = [
    ...index.KeySchema.map((key) => key.AttributeName),
    ...table.KeySchema.map((key) => key.AttributeName),
    ...(index.Projection.NonKeyAttributes ?? []),
  ];
  const kept: Item = Object.create(null);
  for (const name of names) kept[name] = item[name];
  return kept;
}

/** dynalite's updateIndexes (deletes first, then puts), keyed by {@link createIndexKey}. */
function updateIndexes(
  store: Store,
  table: Table,
  existing: Item | null | undefined,
  item: Item | null | undefined,
  callback: Callback,
): void {
  if (!existing && !item) {
    callback();
    return;
  }
  const deletes: ((done: Callback) => void)[] = [];
  const puts: ((done: Callback) => void)[] = [];
  for (const type of ['Local', 'Global'] as const) {
    for (const index of table[`${type}SecondaryIndexes`] ?? []) {
      const inIndex = (candidate: Item | null | undefined): candidate is Item =>
        !!candidate && index.KeySchema.every((key) => candidate[key.AttributeName] != null);
      const indexDb = store.getIndexDb(type, table.TableName, index.IndexName);
      let key: string | null = null;
      if (inIndex(item)) {
        const entry = projected(item, table, index);
        key = createIndexKey(entry, table, index.KeySchema);
        const at = key;
        puts.push((done) => indexDb.put(at, entry, done));
      }
      if (inIndex(existing)) {
        const old = createIndexKey(existing, table, index.KeySchema);
        if (old !== key) deletes.push((done) => indexDb.del(old, done));
      }
    }
  }
  const all = (tasks: ((done: Callback) => void)[], then: Callback) => {
    let left = tasks.length;
    let failed = false;
    if (left === 0) {
      then();
      return;
    }
    for (const task of tasks) {
      task((error) => {
        if (failed) return;
        if (error) {
          failed = true;
          then(error);
          return;
        }
        left -= 1;
        if (left === 0) then();
      });
    }
  };
  all(deletes, (error) => (error ? callback(error) : all(puts, callback)));
}

dynaliteDb.createIndexKey = createIndexKey;
dynaliteDb.updateIndexes = updateIndexes;
