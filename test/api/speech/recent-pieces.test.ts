import { describe, expect, it } from 'vitest';
import { RecentPieces } from '../../../functions/api/speech/recent-pieces';

const piece = (bytes: number) => ({ bytes: new Uint8Array(bytes), payloadBytes: bytes - 44 });

describe('RecentPieces (the synthesis cache in memory)', () => {
  it('forgets the least recently used pieces once over its bytes', () => {
    const recent = new RecentPieces({ maxBytes: 1_000, ttlMs: 60_000 });
    recent.put('a', piece(200));
    recent.put('b', piece(200));
    recent.put('c', piece(200));
    expect(recent.get('a')).toBeDefined(); // now the most recent
    recent.put('d', piece(200));
    recent.put('e', piece(200)); // 1,000 bytes: all fit
    recent.put('f', piece(200)); // over: the least recently used (b) goes
    expect(recent.get('b')).toBeUndefined();
    expect(['a', 'c', 'd', 'e', 'f'].every((key) => recent.get(key) !== undefined)).toBe(true);
    expect(recent.size).toBe(1_000);
  });

  it('forgets a piece older than its time to live', () => {
    let now = 0;
    const recent = new RecentPieces({ maxBytes: 1_000, ttlMs: 15_000, now: () => now });
    recent.put('a', piece(100));
    now = 15_000;
    expect(recent.get('a')?.payloadBytes).toBe(56);
    now = 15_001;
    expect(recent.get('a')).toBeUndefined();
    expect(recent.size).toBe(0);
  });

  it('keeps no piece larger than a quarter of its bytes, and replaces a piece put again', () => {
    const recent = new RecentPieces({ maxBytes: 1_000, ttlMs: 60_000 });
    recent.put('big', piece(251));
    expect(recent.get('big')).toBeUndefined();
    recent.put('a', piece(100));
    recent.put('a', piece(200));
    expect(recent.size).toBe(200);
    expect(recent.get('a')?.bytes.length).toBe(200);
  });
});
