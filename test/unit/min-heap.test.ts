import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../domain/min-heap.js';

describe('MinHeap', () => {
  it('pops the least item first whatever the push order, ties by the order given', () => {
    const heap = new MinHeap<{ at: number; seq: number }>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
    const items = [5, 1, 4, 1, 3, 9, 2, 6, 5, 3].map((at, seq) => ({ at, seq }));
    for (const i of items) heap.push(i);
    expect(heap.size).toBe(10);
    expect(heap.peek()).toEqual({ at: 1, seq: 1 });
    const popped: Array<{ at: number; seq: number }> = [];
    while (heap.size > 0) popped.push(heap.pop()!);
    expect(popped).toEqual([...items].sort((a, b) => a.at - b.at || a.seq - b.seq));
    expect(heap.pop()).toBeUndefined();
    heap.push({ at: 7, seq: 0 });
    heap.clear();
    expect(heap.peek()).toBeUndefined();
  });
});
