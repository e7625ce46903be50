import { describe, expect, test } from 'vitest';
import { arrayLiteral, createBatchedLookup } from './fast-rows.ts';

/** A fake `run` whose statements finish only when the test says so. */
function controlledRun() {
  const calls: { storeId: number; ids: string[]; finish: () => void }[] = [];
  let running = 0;
  let maxRunning = 0;
  const run = (storeId: number, literal: string) =>
    new Promise<unknown[][]>((resolve) => {
      const ids = literal.slice(2, -2).split('","');
      running++;
      maxRunning = Math.max(maxRunning, running);
      calls.push({
        storeId,
        ids,
        finish: () => {
          running--;
          resolve(ids.filter((id) => !id.startsWith('missing')).map((id) => [id, `row of ${id}`]));
        },
      });
    });
  return { run, calls, maxRunning: () => maxRunning };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('createBatchedLookup', () => {
  test('lookups of one turn are one statement per store; each caller gets its own row', async () => {
    const fake = controlledRun();
    const lookup = createBatchedLookup({ run: fake.run, idIndex: 0, print: (row) => JSON.stringify(row) });
    const answers = Promise.all([lookup(1, 'a'), lookup(1, 'b'), lookup(2, 'a'), lookup(1, 'a'), lookup(1, 'missing')]);
    await turn();
    expect(fake.calls.map((c) => [c.storeId, c.ids])).toEqual([
      [1, ['a', 'b', 'missing']],
      [2, ['a']],
    ]);
    for (const call of fake.calls) call.finish();
    expect(await answers).toEqual(['["a","row of a"]', '["b","row of b"]', '["a","row of a"]', '["a","row of a"]', undefined]);
  });

  test('while maxInFlight statements run, later lookups wait and go out together when one returns', async () => {
    const fake = controlledRun();
    const lookup = createBatchedLookup({ run: fake.run, idIndex: 0, print: (row) => String(row[1]), maxInFlight: 2 });
    const first = lookup(1, 'a');
    await turn();
    const second = lookup(1, 'b');
    await turn();
    expect(fake.calls).toHaveLength(2);
    // Three more turns of lookups while both run: none is sent yet.
    const later = [lookup(1, 'c'), lookup(1, 'd')];
    await turn();
    later.push(lookup(1, 'e'));
    await turn();
    expect(fake.calls).toHaveLength(2);
    fake.calls[0]!.finish();
    expect(await first).toBe('row of a');
    await turn();
    expect(fake.calls.map((c) => c.ids)).toEqual([['a'], ['b'], ['c', 'd', 'e']]);
    fake.calls[1]!.finish();
    fake.calls[2]!.finish();
    expect(await second).toBe('row of b');
    expect(await Promise.all(later)).toEqual(['row of c', 'row of d', 'row of e']);
    expect(fake.maxRunning()).toBe(2);
    // Nothing running: a new lookup goes out at once, alone.
    const alone = lookup(1, 'f');
    await turn();
    expect(fake.calls.at(-1)!.ids).toEqual(['f']);
    fake.calls.at(-1)!.finish();
    expect(await alone).toBe('row of f');
  });

  test('a failed statement fails its lookups only, and the next batch still goes out', async () => {
    let fail = true;
    const lookup = createBatchedLookup({
      run: async (_storeId, literal) => {
        if (fail) throw new Error('connection lost');
        return [[literal.slice(2, -2), 'ok']];
      },
      idIndex: 0,
      print: (row) => String(row[1]),
      maxInFlight: 1,
    });
    await expect(lookup(1, 'a')).rejects.toThrow('connection lost');
    fail = false;
    expect(await lookup(1, 'b')).toBe('ok');
  });

  test('arrayLiteral quotes and escapes', () => {
    expect(arrayLiteral(['a', 'b"c', 'd\\e'])).toBe('{"a","b\\"c","d\\\\e"}');
  });
});
