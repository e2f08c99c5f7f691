import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareAscii, reversedLabels } from '#sandbox/emulators/dns-names.js';
import { type RecordSet, RecordSetIndex } from '#sandbox/emulators/route53-records.js';

const APEX = 'example.com.';

/** What the index must answer, computed the slow way: a scan and a sort of every set. */
function model(sets: RecordSet[]) {
  const order = (a: RecordSet, b: RecordSet) =>
    compareAscii(reversedLabels(a.name), reversedLabels(b.name)) || compareAscii(a.type, b.type);
  return {
    sorted: [...sets].sort(order),
    setsAt: (name: string) =>
      sets.filter((set) => set.name === name).sort((a, b) => compareAscii(a.type, b.type)),
    exists: (name: string) =>
      sets.some((set) => set.name === name || set.name.endsWith(`.${name}`)),
  };
}

// Names under the apex with labels that sort differently forwards and backwards, hyphens and
// underscores included, so that list order is really Route 53's reversed-label order.
const label = fc.constantFrom('a', 'b', 'mail', 'mail-2', '_domainkey', 's1', 'z9', 'tok');
const name = fc
  .array(label, { minLength: 0, maxLength: 3 })
  .map((labels) => [...labels, APEX].join('.').replace(/^\./, ''));
const type = fc.constantFrom('CNAME', 'TXT', 'MX', 'A');
const operation = fc.record({
  put: fc.boolean(),
  name,
  type,
  ttl: fc.integer({ min: 60, max: 3600 }),
});

describe('the Route 53 emulator record index', () => {
  it("lists in Route 53's order: reversed labels with the trailing dot, in ASCII", () => {
    const index = new RecordSetIndex(APEX);
    const names = [
      'mail.example.com.',
      'mail-2.example.com.',
      '_domainkey.example.com.',
      'a.mail.example.com.',
      'example.com.',
      'z9.example.com.',
    ];
    for (const setName of names) index.put({ name: setName, type: 'TXT', ttl: 300, values: [] });
    index.put({ name: 'mail.example.com.', type: 'MX', ttl: 300, values: [] });
    // '-' (45) sorts before the dot (46) that ends `mail.`, '_' (95) before the letters, and
    // a name below `mail` after it.
    expect(index.sorted().map((set) => `${set.name} ${set.type}`)).toEqual([
      'example.com. TXT',
      '_domainkey.example.com. TXT',
      'mail-2.example.com. TXT',
      'mail.example.com. MX',
      'mail.example.com. TXT',
      'a.mail.example.com. TXT',
      'z9.example.com. TXT',
    ]);
  });

  it('answers as a scan and a sort of the zone would, after any puts and deletes', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), name, (operations, probe) => {
        const index = new RecordSetIndex(APEX);
        const live = new Map<string, RecordSet>();
        for (const { put, name: at, type: kind, ttl } of operations) {
          const key = `${at}|${kind}`;
          if (put) {
            const set = { name: at, type: kind, ttl, values: [`v${ttl}`] };
            index.put(set);
            live.set(key, set);
          } else {
            expect(index.delete(at, kind)).toEqual(live.get(key));
            live.delete(key);
          }
        }
        const expected = model([...live.values()]);

        expect(index.size).toBe(live.size);
        expect(index.sorted()).toEqual(expected.sorted);
        expect(
          index.setsAt(probe).sort((a: RecordSet, b: RecordSet) => a.type.localeCompare(b.type)),
        ).toEqual(expected.setsAt(probe));
        expect(index.existsAtOrBelow(probe)).toBe(expected.exists(probe));
      }),
    );
  });

  it('pages from any start name and type, as ListResourceRecordSets does', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(name, type), { selector: ([n, t]) => `${n}|${t}` }),
        name,
        fc.option(type, { nil: undefined }),
        fc.integer({ min: 1, max: 5 }),
        (keys, startName, startType, max) => {
          const sets = keys.map(([n, t]) => ({ name: n, type: t, ttl: 300, values: ['v'] }));
          const index = new RecordSetIndex(APEX, sets);
          const sorted = model(sets).sorted;
          const from = { name: startName, type: startType ?? '' };
          let start = sorted.findIndex(
            (set) =>
              (reversedLabels(set.name).localeCompare(reversedLabels(from.name)) ||
                set.type.localeCompare(from.type)) >= 0,
          );
          if (start < 0) start = sorted.length;

          expect(index.page(from, max)).toEqual({
            sets: sorted.slice(start, start + max),
            next: sorted[start + max],
          });
        },
      ),
    );
  });
});
