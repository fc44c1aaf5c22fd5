import { describe, expect, it } from 'vitest';

import { CloseCode } from '../src/protocol';
import { decideClose, ReconnectPolicy } from '../src/reconnect';

describe('ReconnectPolicy', () => {
  it('doubles the cap from 1 s up to 30 s', () => {
    const policy = new ReconnectPolicy({ maxAttempts: 100, random: () => 0.999999 });
    const delays = Array.from({ length: 8 }, () => policy.next());
    expect(delays).toEqual([999, 1999, 3999, 7999, 15999, 29999, 29999, 29999]);
  });

  it('uses full jitter: a draw of 0 waits 0 ms, a draw of 0.5 waits half the cap', () => {
    expect(new ReconnectPolicy({ random: () => 0 }).next()).toBe(0);
    const half = new ReconnectPolicy({ random: () => 0.5 });
    expect([half.next(), half.next(), half.next()]).toEqual([500, 1000, 2000]);
  });

  it('is exhausted when the drop and maxAttempts retries failed, then waits the longest delay', () => {
    const policy = new ReconnectPolicy({ maxAttempts: 5, random: () => 0.5 });
    // The drop and four failed retries: a backoff delay before each of the five retries.
    const delays = Array.from({ length: 5 }, () => {
      expect(policy.exhausted).toBe(false);
      return policy.next();
    });
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(policy.exhausted).toBe(false);
    // The fifth retry fails: exhausted, and the very next retry is already on the slow beat.
    expect(policy.next()).toBe(30000);
    expect(policy.exhausted).toBe(true);
    expect(policy.next()).toBe(30000);
  });

  it('starts again from the base delay after reset', () => {
    const policy = new ReconnectPolicy({ random: () => 0.5 });
    policy.next();
    policy.next();
    policy.reset();
    expect(policy.attempts).toBe(0);
    expect(policy.next()).toBe(500);
  });

  it('follows live setting changes without losing the failure count', () => {
    const policy = new ReconnectPolicy({ random: () => 0.5 });
    policy.next();
    policy.configure({ base: 200, max: 1000 });
    expect(policy.attempts).toBe(1);
    expect(policy.next()).toBe(200);
  });

  it('waits the longest delay when the server says too many (4429)', () => {
    const policy = new ReconnectPolicy({ random: () => 0 });
    expect(policy.next('later')).toBe(30000);
  });
});

describe('decideClose', () => {
  it('is final for forbidden and bad tenant ids', () => {
    expect(decideClose(CloseCode.Forbidden)).toBe('final');
    expect(decideClose(CloseCode.BadTenant)).toBe('final');
  });

  it('retries later on 4429', () => {
    expect(decideClose(CloseCode.TooMany)).toBe('later');
  });

  it('reconnects on heartbeat timeout, slow consumer and transport closes', () => {
    for (const code of [4408, 4413, 1006, 1001, 1011, 1000]) {
      expect(decideClose(code)).toBe('retry');
    }
  });
});
