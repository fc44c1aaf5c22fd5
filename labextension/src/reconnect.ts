/**
 * The reconnect policy, the same as the kernel's (DESIGN.md §7): wait `base` ms doubling up
 * to `max` ms with FULL jitter (a uniform draw in [0, cap]), so a restarted server is not
 * hit by every browser at once; after `maxAttempts` failures the link is reported as
 * `error` but retries go on every `max` ms. Pure: randomness is injected for tests.
 */
import { CloseCode } from './protocol';

export interface IReconnectOptions {
  /** First delay cap in ms (setting `reconnectDelay`, default 1000). */
  base: number;
  /** Largest delay in ms (setting `maxReconnectDelay`, default 30000). */
  max: number;
  /** Failures before the link is reported as `error` (setting `maxReconnectAttempts`). */
  maxAttempts: number;
  /** A uniform draw in [0, 1); `Math.random` by default. */
  random?: () => number;
}

/** What to do after a socket closed. */
export type CloseDecision =
  /** Try again after the backoff delay. */
  | 'retry'
  /** The server is over a limit: try again, but only after the longest delay. */
  | 'later'
  /** Retrying cannot help (forbidden, bad tenant id): stop and show the reason. */
  | 'final';

export const DEFAULT_RECONNECT: IReconnectOptions = {
  base: 1000,
  max: 30000,
  maxAttempts: 5
};

/**
 * Classify a close code. 4403/4400 are final (the same settings would be refused again);
 * 4429 retries later; 4408 (heartbeat) and 4413 (slow consumer) and every transport close
 * reconnect and resync from the Snapshot.
 */
export function decideClose(code: number): CloseDecision {
  switch (code) {
    case CloseCode.Forbidden:
    case CloseCode.BadTenant:
      return 'final';
    case CloseCode.TooMany:
      return 'later';
    default:
      return 'retry';
  }
}

/** Counts consecutive failures and hands out the next delay. */
export class ReconnectPolicy {
  constructor(options: Partial<IReconnectOptions> = {}) {
    this._options = { ...DEFAULT_RECONNECT, ...options };
  }

  get options(): Readonly<IReconnectOptions> {
    return this._options;
  }

  /** Change the settings without losing the failure count (settings apply live). */
  configure(options: Partial<IReconnectOptions>): void {
    this._options = { ...this._options, ...options };
  }

  /** Consecutive failed attempts since the last good connection. */
  get attempts(): number {
    return this._attempts;
  }

  /** True once `maxAttempts` attempts failed: the link is `error`, retries go on slowly. */
  get exhausted(): boolean {
    return this._attempts >= this._options.maxAttempts;
  }

  /** The largest delay the next attempt may get (before jitter). */
  cap(): number {
    const { base, max } = this._options;
    if (this.exhausted) {
      return max;
    }
    return Math.min(max, base * 2 ** this._attempts);
  }

  /** Count one failure and return how long to wait before the next attempt (full jitter). */
  next(decision: CloseDecision = 'retry'): number {
    const random = this._options.random ?? Math.random;
    // Once exhausted, retry on a fixed slow beat (as the kernel does); before that, jitter.
    const fixed = decision === 'later' || this.exhausted;
    const delay = fixed ? this._options.max : Math.floor(random() * this.cap());
    this._attempts += 1;
    return delay;
  }

  /** A connection stayed up long enough (`stableMs` in the client): start again from `base`. */
  reset(): void {
    this._attempts = 0;
  }

  private _options: IReconnectOptions;
  private _attempts = 0;
}
