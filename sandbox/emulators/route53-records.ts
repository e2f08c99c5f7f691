import { compareAscii, reversedLabels } from './dns-names.js';

/** One resource record set, as Route 53 stores it (name fully qualified, values as given). */
export interface RecordSet {
  name: string;
  type: string;
  ttl: number;
  values: string[];
}

/** A record set with the key Route 53 lists it by, computed once when it is stored. */
interface Entry {
  set: RecordSet;
  /** Labels reversed (`com.example.www.`): a zone's names come out grouped by subtree. */
  nameKey: string;
}

function compareKeys(nameKeyA: string, typeA: string, nameKeyB: string, typeB: string): number {
  return compareAscii(nameKeyA, nameKeyB) || compareAscii(typeA, typeB);
}

const keyOf = (name: string, type: string) => `${name}|${type}`;

/**
 * The record sets of one hosted zone, indexed for what Route 53 and its name servers are asked:
 * by name and type, by name alone (every type at a name), whether anything exists at or below a
 * name (an empty non-terminal), and in Route 53's list order from any start. Each change costs a
 * binary search and an array splice and no request sorts or scans the zone, so the sandbox's cost
 * per request does not grow with the number of identities it hosts.
 */
export class RecordSetIndex {
  private readonly byKey = new Map<string, Entry>();
  private readonly byName = new Map<string, Map<string, RecordSet>>();
  /** Record sets at or below each name, down to the zone's apex. */
  private readonly below = new Map<string, number>();
  /** Every entry in Route 53's list order (reversed-label name, then type). */
  private readonly ordered: Entry[] = [];

  /** `apex`: the zone's name, fully qualified; names counted in `below` stop there. */
  constructor(
    private readonly apex: string,
    sets: Iterable<RecordSet> = [],
  ) {
    for (const set of sets) this.put(set);
  }

  get size(): number {
    return this.byKey.size;
  }

  get(name: string, type: string): RecordSet | undefined {
    return this.byKey.get(keyOf(name, type))?.set;
  }

  /** The record sets at exactly `name`, every type. */
  setsAt(name: string): RecordSet[] {
    const types = this.byName.get(name);
    return types ? [...types.values()] : [];
  }

  /** True when a record set is at `name` or at a name below it. */
  existsAtOrBelow(name: string): boolean {
    return (this.below.get(name) ?? 0) > 0;
  }

  /** Adds a record set, or replaces the one with its name and type. */
  put(set: RecordSet): void {
    const key = keyOf(set.name, set.type);
    const existing = this.byKey.get(key);
    if (existing) {
      existing.set = set;
      this.byName.get(set.name)?.set(set.type, set);
      return;
    }
    const entry: Entry = { set, nameKey: reversedLabels(set.name) };
    this.byKey.set(key, entry);
    let types = this.byName.get(set.name);
    if (!types) {
      types = new Map();
      this.byName.set(set.name, types);
    }
    types.set(set.type, set);
    this.ordered.splice(this.lowerBound(entry.nameKey, set.type), 0, entry);
    this.countBelow(set.name, 1);
  }

  /** Removes the record set with this name and type; returns it, if there was one. */
  delete(name: string, type: string): RecordSet | undefined {
    const key = keyOf(name, type);
    const entry = this.byKey.get(key);
    if (!entry) return undefined;
    this.byKey.delete(key);
    const types = this.byName.get(name);
    types?.delete(type);
    if (types?.size === 0) this.byName.delete(name);
    let index = this.lowerBound(entry.nameKey, type);
    while (index < this.ordered.length && this.ordered[index] !== entry) index += 1;
    if (index < this.ordered.length) this.ordered.splice(index, 1);
    this.countBelow(name, -1);
    return entry.set;
  }

  /**
   * Up to `max` record sets in list order, from the first at or after (`name`, `type`) (from the
   * start without a name); `next` is the one after the page, if any.
   */
  page(
    from: { name: string; type: string } | undefined,
    max: number,
  ): { sets: RecordSet[]; next: RecordSet | undefined } {
    const start = from ? this.lowerBound(reversedLabels(from.name), from.type) : 0;
    return {
      sets: this.ordered.slice(start, start + max).map((entry) => entry.set),
      next: this.ordered[start + max]?.set,
    };
  }

  /** Every record set, in list order. */
  sorted(): RecordSet[] {
    return this.ordered.map((entry) => entry.set);
  }

  /** The first position whose entry sorts at or after (`nameKey`, `type`). */
  private lowerBound(nameKey: string, type: string): number {
    let low = 0;
    let high = this.ordered.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const entry = this.ordered[middle] as Entry;
      if (compareKeys(entry.nameKey, entry.set.type, nameKey, type) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private countBelow(name: string, delta: number): void {
    let current = name;
    for (;;) {
      const count = (this.below.get(current) ?? 0) + delta;
      if (count > 0) this.below.set(current, count);
      else this.below.delete(current);
      if (current === this.apex || !current.endsWith(`.${this.apex}`)) return;
      current = current.slice(current.indexOf('.') + 1);
    }
  }
}
