/**
 * HotConfClient: one WebSocket to `{base_url}hotconf/ws` with the kernel's reconnect policy.
 *
 * It knows nothing of JupyterLab: the socket factory and the timers are injected, so the
 * policy is tested in node with a scripted socket and a fake clock.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { CloseCode, decode, Message, PONG } from './protocol';
import { decideClose, ReconnectPolicy } from './reconnect';
import { LinkStatus } from './state';

/** The part of the DOM WebSocket the client uses. */
export interface ISocket {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * What the model needs of its link: `HotConfClient` in the browser, a scripted fake in the
 * model's unit tests (`HotConfModel.IOptions.createClient`).
 */
export interface IClient {
  /** The backoff; the model re-configures it when the settings change. */
  readonly policy: ReconnectPolicy;
  readonly status: LinkStatus;
  /** Why the link is in `error` or `reconnecting`, else `null`. */
  readonly lastError: string | null;
  readonly statusChanged: ISignal<IClient, LinkStatus>;
  /** Every decoded message except Ping/Pong, in order. */
  readonly messageReceived: ISignal<IClient, Message>;
  /** Forget past failures and open a socket now (to the URL computed at this moment). */
  reconnect(): void;
  /** Close for good: no retry until the next `reconnect()`. */
  stop(): void;
  dispose(): void;
}

export interface ITimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface IClientOptions {
  /** Computed at every attempt, so a changed setting (tenants, wsUrl) applies on reconnect. */
  url: () => string;
  policy?: ReconnectPolicy;
  createSocket?: (url: string) => ISocket;
  timers?: ITimers;
  /** A connection up this long resets the backoff (the kernel's 60 s). */
  stableMs?: number;
  /** No frame for this long (the server pings every 5 s) means a dead link. */
  silenceMs?: number;
}

const browserTimers: ITimers = {
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: handle => window.clearTimeout(handle as number)
};

export class HotConfClient implements IClient {
  constructor(options: IClientOptions) {
    this._url = options.url;
    this.policy = options.policy ?? new ReconnectPolicy();
    this._createSocket = options.createSocket ?? (url => new WebSocket(url) as ISocket);
    this._timers = options.timers ?? browserTimers;
    this._stableMs = options.stableMs ?? 60000;
    this._silenceMs = options.silenceMs ?? 30000;
  }

  readonly policy: ReconnectPolicy;

  get status(): LinkStatus {
    return this._status;
  }

  /** Why the link is in `error` or `reconnecting` (close reason or code), else `null`. */
  get lastError(): string | null {
    return this._lastError;
  }

  /** Delay in ms before the pending attempt, `null` when none is scheduled. */
  get nextRetryMs(): number | null {
    return this._nextRetryMs;
  }

  get statusChanged(): ISignal<this, LinkStatus> {
    return this._statusChanged;
  }

  /** Every decoded message except Ping/Pong, in order. */
  get messageReceived(): ISignal<this, Message> {
    return this._messageReceived;
  }

  /** Open the socket now (a manual reconnect also forgets past failures). */
  connect(): void {
    this._closeSocket();
    this._clearTimer('_retryTimer');
    this._nextRetryMs = null;
    this._stopped = false;
    this._setStatus(this.policy.attempts > 0 ? 'reconnecting' : 'connecting');
    let socket: ISocket;
    try {
      socket = this._createSocket(this._url());
    } catch (err) {
      // A malformed custom wsUrl: retrying the same URL cannot help.
      this._fail(`cannot open WebSocket: ${(err as Error).message}`);
      return;
    }
    this._socket = socket;
    socket.onopen = () => {
      this._lastError = null;
      this._setStatus('connected');
      this._stableTimer = this._timers.setTimeout(() => this.policy.reset(), this._stableMs);
      this._armSilence();
    };
    socket.onmessage = ev => this._onFrame(ev.data);
    socket.onerror = () => undefined; // always followed by onclose, which decides
    socket.onclose = ev => this._onClose(socket, ev.code, ev.reason);
  }

  /** The palette's "reconnect": forget the failures and try at once. */
  reconnect(): void {
    this.policy.reset();
    this.connect();
  }

  /** Close for good (settings `enabled: false`, dispose): no retry. */
  stop(): void {
    this._stopped = true;
    this._closeSocket();
    this._clearTimer('_retryTimer');
    this._nextRetryMs = null;
    this._setStatus('disconnected');
  }

  dispose(): void {
    this.stop();
    Signal.clearData(this);
  }

  private _onFrame(data: unknown): void {
    this._armSilence();
    if (typeof data !== 'string') {
      return;
    }
    let message: Message | null;
    try {
      message = decode(data);
    } catch (err) {
      console.warn('hotconf: ignoring a frame that is not JSON:', data);
      return;
    }
    if (message === null || message.kind === 'Pong') {
      return;
    }
    if (message.kind === 'Ping') {
      this._socket?.send(PONG);
      return;
    }
    this._messageReceived.emit(message);
  }

  private _onClose(socket: ISocket, code: number, reason: string): void {
    if (socket !== this._socket) {
      return; // a socket we already replaced
    }
    this._socket = null;
    this._clearTimer('_stableTimer');
    this._clearTimer('_silenceTimer');
    if (this._stopped) {
      return;
    }
    const decision = decideClose(code);
    const why = reason ? `${reason} (${code})` : `closed (${code})`;
    if (decision === 'final') {
      this._fail(why);
      return;
    }
    this._lastError = why;
    const delay = this.policy.next(decision);
    this._nextRetryMs = delay;
    this._setStatus(this.policy.exhausted ? 'error' : 'reconnecting');
    this._retryTimer = this._timers.setTimeout(() => this.connect(), delay);
  }

  private _fail(why: string): void {
    this._stopped = true;
    this._lastError = why;
    this._setStatus('error');
  }

  private _armSilence(): void {
    this._clearTimer('_silenceTimer');
    this._silenceTimer = this._timers.setTimeout(() => {
      // Nothing for too long: the link is dead though TCP has not noticed. Reconnect.
      const socket = this._socket;
      if (socket) {
        this._onClose(socket, CloseCode.HeartbeatTimeout, 'no heartbeat from the server');
        socket.close();
      }
    }, this._silenceMs);
  }

  private _closeSocket(): void {
    const socket = this._socket;
    this._socket = null;
    this._clearTimer('_stableTimer');
    this._clearTimer('_silenceTimer');
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      socket.close(CloseCode.Normal, 'client closing');
    }
  }

  private _clearTimer(name: '_retryTimer' | '_stableTimer' | '_silenceTimer'): void {
    if (this[name] !== null) {
      this._timers.clearTimeout(this[name]);
      this[name] = null;
    }
  }

  private _setStatus(status: LinkStatus): void {
    if (status !== this._status) {
      this._status = status;
      this._statusChanged.emit(status);
    }
  }

  private _url: () => string;
  private _createSocket: (url: string) => ISocket;
  private _timers: ITimers;
  private _stableMs: number;
  private _silenceMs: number;
  private _socket: ISocket | null = null;
  private _stopped = false;
  private _status: LinkStatus = 'disconnected';
  private _lastError: string | null = null;
  private _nextRetryMs: number | null = null;
  private _retryTimer: unknown = null;
  private _stableTimer: unknown = null;
  private _silenceTimer: unknown = null;
  private _statusChanged = new Signal<this, LinkStatus>(this);
  private _messageReceived = new Signal<this, Message>(this);
}
