/**
 * The reconnect policy, the same as the kernel's (docs/kernel.md; docs/labextension.md,
 * "Design choices"): wait `base` ms doubling up to `max` ms with FULL jitter (a uniform draw
 * in [0, cap]), so a restarted server is not hit by every browser at once; once
 * `maxAttempts` reconnect attempts failed too the link is reported as `error` and retries go
 * on every `max` ms (as `Backoff` in the kernel: the drop itself is not an attempt). Pure:
 * randomness is injected for tests.
 */
import { CloseCode } from './protocol';

export interface IReconnectOptions {
  /** First delay cap in ms (setting `reconnectDelay`, default 1000). */
  base: number;
  /** Largest delay in ms (setting `maxReconnectDelay`, default 30000). */
  max: number;
  /** Failed reconnect attempts before the link shows `error` (`maxReconnectAttempts`). */
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
 * Classify a close code. `CloseCode.Forbidden` and `CloseCode.BadTenant` are final (the same
 * settings would be refused again); `CloseCode.TooMany` retries later;
 * `CloseCode.HeartbeatTimeout`, `CloseCode.SlowConsumer` and every transport close reconnect
 * and resync from the Snapshot.
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

  /**
   * True once the drop and then `maxAttempts` reconnect attempts failed (the kernel's
   * `attempts > max_attempts`): the link is `error`, retries go on every `max` ms.
   */
  get exhausted(): boolean {
    return this._attempts > this._options.maxAttempts;
  }

  /**
   * Count one failure and return how long to wait before the next attempt: full jitter under
   * a cap doubling from `base`, or the fixed slow beat once exhausted. Counting first means
   * the `error` status and the slow beat start together (no quick retry right after `error`).
   */
  next(decision: CloseDecision = 'retry'): number {
    const { base, max, random = Math.random } = this._options;
    this._attempts += 1;
    if (decision === 'later' || this.exhausted) {
      return max;
    }
    return Math.floor(random() * Math.min(max, base * 2 ** (this._attempts - 1)));
  }

  /** A connection stayed up long enough (`stableMs` in the client): start again from `base`. */
  reset(): void {
    this._attempts = 0;
  }

  private _options: IReconnectOptions;
  private _attempts = 0;
}
