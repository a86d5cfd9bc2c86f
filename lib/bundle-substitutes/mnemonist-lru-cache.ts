/**
 * Stands in for `mnemonist/lru-cache` in the Lambda bundles (an esbuild alias set by HouseFunction). Its only
 * user there is the DynamoDB client's endpoint-discovery cache (`@aws-sdk/endpoint-cache`: constructor,
 * `get`, `set`, `has`, `peek`, `clear`), which voicedrop never turns on; mnemonist's typed-array LRU and its
 * iterator helpers are about 6.5 KB of each bundle, this Map (insertion order is recency) a few hundred bytes.
 */
export default class LRUCache<K, V> {
  private readonly items = new Map<K, V>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.size;
  }

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    if (!this.items.has(key)) return undefined;
    const value = this.items.get(key) as V;
    this.items.delete(key);
    this.items.set(key, value);
    return value;
  }

  /** The value, leaving the order alone. */
  peek(key: K): V | undefined {
    return this.items.get(key);
  }

  has(key: K): boolean {
    return this.items.has(key);
  }

  /** Stores the value as the most recently used, dropping the least recently used when full. */
  set(key: K, value: V): this {
    this.items.delete(key);
    if (this.items.size >= this.capacity) {
      const [oldest] = this.items.keys();
      this.items.delete(oldest as K);
    }
    this.items.set(key, value);
    return this;
  }

  clear(): void {
    this.items.clear();
  }
}
