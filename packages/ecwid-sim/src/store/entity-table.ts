type Entry<K, T> = { key: K; doc: T; updatedAt: number; seq: number; revision: number };

function compareEntries<K, T>(a: Entry<K, T>, b: Entry<K, T>): number {
  return a.updatedAt - b.updatedAt || a.seq - b.seq;
}

/**
 * One entity collection: documents by id plus an index sorted by last update (seconds, then
 * write order), so `updatedFrom/To` filters and paging stay cheap at 100k orders. The index is
 * sorted lazily: bulk loads append, the first read sorts once.
 */
export class EntityTable<K extends number | string, T> {
  readonly #entries = new Map<K, Entry<K, T>>();
  #byUpdate: Entry<K, T>[] = [];
  #sorted = true;
  #seq = 0;

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): T | undefined {
    return this.#entries.get(key)?.doc;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** Documents in insertion order (ids ascending for generated data). */
  values(): T[] {
    return Array.from(this.#entries.values(), (entry) => entry.doc);
  }

  /** Documents ordered by last update, oldest first. */
  byUpdate(): T[] {
    return this.#index().map((entry) => entry.doc);
  }

  /** Documents with `from <= updatedAt <= to`, oldest first. */
  updatedBetween(from = -Infinity, to = Infinity): T[] {
    const index = this.#index();
    const start = lowerBound(index, from);
    const end = lowerBound(index, to + 1);
    const out: T[] = new Array<T>(Math.max(0, end - start));
    for (let i = start; i < end; i++) out[i - start] = index[i]!.doc;
    return out;
  }

  /** The i-th document by update order; cheap random access for the activity generator. */
  at(position: number): T | undefined {
    return this.#index()[position]?.doc;
  }

  /** How many times the document was written; Ecwid's promotion `version`. */
  revision(key: K): number {
    return this.#entries.get(key)?.revision ?? 0;
  }

  put(key: K, doc: T, updatedAt: number): void {
    this.delete(key);
    const entry = { key, doc, updatedAt, seq: this.#seq++, revision: 1 };
    this.#entries.set(key, entry);
    this.#insert(entry);
  }

  touch(key: K, updatedAt: number): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#remove(entry);
    entry.updatedAt = updatedAt;
    entry.seq = this.#seq++;
    entry.revision++;
    this.#insert(entry);
  }

  delete(key: K): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    this.#remove(entry);
    return entry.doc;
  }

  #index(): Entry<K, T>[] {
    if (!this.#sorted) {
      this.#byUpdate.sort(compareEntries);
      this.#sorted = true;
    }
    return this.#byUpdate;
  }

  #insert(entry: Entry<K, T>): void {
    const last = this.#byUpdate.at(-1);
    if (!this.#sorted || !last || compareEntries(last, entry) < 0) {
      this.#byUpdate.push(entry);
      return;
    }
    // Bulk loads arrive unsorted: defer the sort to the next read instead of splicing.
    this.#byUpdate.push(entry);
    this.#sorted = false;
  }

  #remove(entry: Entry<K, T>): void {
    const index = this.#index();
    let low = 0;
    let high = index.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareEntries(index[mid]!, entry) < 0) low = mid + 1;
      else high = mid;
    }
    if (index[low] === entry) index.splice(low, 1);
  }
}

function lowerBound<K, T>(index: Entry<K, T>[], updatedAt: number): number {
  let low = 0;
  let high = index.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (index[mid]!.updatedAt < updatedAt) low = mid + 1;
    else high = mid;
  }
  return low;
}
