/**
 * A binary min-heap: push and pop in O(log n), the least element by `less` at `peek()`.
 * Used where a loop repeatedly needs the next due item of a large set (the RTO forecast's
 * event loop, the simulator's scheduler). Pure.
 */
export class MinHeap<T> {
  private items: T[] = [];

  /** @param less strict order: true when `a` comes before `b` */
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  /** Items held. */
  get size(): number {
    return this.items.length;
  }

  /** The least item, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Remove and return the least item, or undefined when empty. */
  pop(): T | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Drop every item. */
  clear(): void {
    this.items = [];
  }
}
