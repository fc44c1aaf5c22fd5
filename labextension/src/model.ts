/**
 * HotConfModel: owns the socket (through HotConfClient), the tenants' state and the server
 * info; the status item and the panel only render it. It is also the `IHotConf` service.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { VDomModel } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';

import { HotConfClient, IClient, IClientOptions } from './client';
import { HotConfAPIError, IInfo, requestAPI } from './handler';
import { HistoryAPI, IHistory, IRollback } from './history';
import { Message, socketQuery } from './protocol';
import { ReconnectPolicy } from './reconnect';
import { aggregate, ITenantState, LinkStatus, reduce, Tenants } from './state';
import { IHotConf } from './tokens';

/** The settings of schema/plugin.json. */
export interface IHotConfSettings {
  enabled: boolean;
  wsUrl: string;
  tenants: string[];
  position: 'left' | 'right';
  compact: boolean;
  showOnlyOnError: boolean;
  notifyOnChange: boolean;
  maxReconnectAttempts: number;
  reconnectDelay: number;
  maxReconnectDelay: number;
}

export const DEFAULT_SETTINGS: IHotConfSettings = {
  enabled: true,
  wsUrl: '',
  tenants: ['*'],
  position: 'left',
  compact: false,
  showOnlyOnError: false,
  notifyOnChange: false,
  maxReconnectAttempts: 5,
  reconnectDelay: 1000,
  maxReconnectDelay: 30000
};

export class HotConfModel extends VDomModel implements IHotConf {
  constructor(options: HotConfModel.IOptions = {}) {
    super();
    this._serverSettings = options.serverSettings ?? ServerConnection.makeSettings();
    this._settings = { ...DEFAULT_SETTINGS, ...options.settings };
    this._now = options.now ?? Date.now;
    this.historyAPI = new HistoryAPI(this._serverSettings);
    const createClient = options.createClient ?? (o => new HotConfClient(o));
    this._client = createClient({
      url: () => this.socketUrl,
      policy: new ReconnectPolicy(Private.policyOptions(this._settings))
    });
    this._client.statusChanged.connect(this._onLinkChanged, this);
    this._client.messageReceived.connect(this._onMessage, this);
  }

  get settings(): Readonly<IHotConfSettings> {
    return this._settings;
  }

  /** The WebSocket URL: `wsUrl` when set (a base ending in `/hotconf/`, or a full `…/ws`). */
  get socketUrl(): string {
    const query = `${socketQuery(this._settings.tenants)}&include=config`;
    const custom = this._settings.wsUrl.trim();
    if (custom) {
      const ws = custom.replace(/^http/, 'ws');
      const base = /\/ws(\?|$)/.test(ws) ? ws : URLExt.join(ws, 'ws');
      return `${base}${base.includes('?') ? '&' : '?'}${query}`;
    }
    const s = this._serverSettings;
    let url = `${URLExt.join(s.wsUrl, 'hotconf', 'ws')}?${query}`;
    // As @jupyterlab/services' kernel socket does: the token only when cookies will not do.
    if (s.appendToken && s.token !== '') {
      url += `&token=${encodeURIComponent(s.token)}`;
    }
    return url;
  }

  get link(): LinkStatus {
    if (!this._settings.enabled) {
      return 'disabled';
    }
    if (this._missing) {
      return 'missing';
    }
    // 401/403 from info is final, as in the kernel's client: no socket is opened.
    return this._infoError ? 'error' : this._client.status;
  }

  get mode(): string | null {
    return this._mode;
  }

  get info(): IInfo | null {
    return this._info;
  }

  get tenants(): Tenants {
    return this._tenants;
  }

  get status(): IHotConf.IStatus {
    return {
      ...aggregate(this._tenants, this.link),
      mode: this._mode,
      lastError: this._infoError ?? this._client.lastError
    };
  }

  /** Hidden: disabled, `prod` mode, or show-only-on-error with nothing wrong. */
  get visible(): boolean {
    const { level } = this.status;
    if (level === 'off' || this._mode === 'prod') {
      return false;
    }
    return !this._settings.showOnlyOnError || level === 'error' || level === 'warn';
  }

  get statusChanged(): ISignal<this, IHotConf.IStatus> {
    return this._statusChanged;
  }

  get configChanged(): ISignal<this, IHotConf.IConfigChange> {
    return this._configChanged;
  }

  /** Every protocol message after it was applied (notifications listen here). */
  get messageReceived(): ISignal<this, Message> {
    return this._messageReceived;
  }

  async getConfig(tenant: string): Promise<Record<string, unknown> | null> {
    const known = this._tenants.get(tenant);
    if (known && this._client.status === 'connected') {
      return known.config;
    }
    try {
      const body = await requestAPI<{ config: Record<string, unknown> | null }>(
        `tenants/${encodeURIComponent(tenant)}`,
        {},
        this._serverSettings
      );
      return body.config;
    } catch (err) {
      if (err instanceof HotConfAPIError && err.status === 404) {
        return null;
      }
      if (known) {
        return known.config; // offline: the last config we saw is the best we have
      }
      throw err;
    }
  }

  /** The history calls against the same server as `getConfig` (docs/history.md). */
  readonly historyAPI: HistoryAPI;

  history(tenant: string, options?: { limit?: number; before?: number | null }): Promise<IHistory> {
    return this.historyAPI.history(tenant, options);
  }

  rollback(tenant: string, revision: number): Promise<IRollback> {
    return this.historyAPI.rollback(tenant, revision);
  }

  /** Read the server info (mode, presence) then open the socket. */
  async start(): Promise<void> {
    this._started = true;
    if (!this._settings.enabled) {
      this._changed();
      return;
    }
    this._missing = false;
    this._infoError = null;
    if (!this._settings.wsUrl.trim()) {
      // With a custom wsUrl the Jupyter server may legitimately lack the extension.
      try {
        this._info = await requestAPI<IInfo>('info', {}, this._serverSettings);
        this._mode = this._info?.mode ?? null;
      } catch (err) {
        if (err instanceof HotConfAPIError && err.status === 404) {
          this._missing = true;
          this._changed();
          return;
        }
        if (err instanceof HotConfAPIError && (err.status === 401 || err.status === 403)) {
          this._client.stop();
          this._infoError = err.message;
          this._changed();
          return;
        }
        // Server down or flaky: the socket's reconnect policy takes over.
        console.warn('hotconf: cannot read hotconf/api/info:', err);
      }
    }
    this._client.reconnect();
  }

  reconnect(): void {
    void this.start();
  }

  /** Apply changed settings at once (settings.changed): no page reload needed. */
  configure(next: Partial<IHotConfSettings>): void {
    const prev = this._settings;
    this._settings = { ...prev, ...next };
    this._client.policy.configure(Private.policyOptions(this._settings));
    const relink =
      prev.enabled !== this._settings.enabled ||
      prev.wsUrl !== this._settings.wsUrl ||
      prev.tenants.join('\n') !== this._settings.tenants.join('\n');
    if (relink && this._started) {
      this._tenants = new Map();
      if (this._settings.enabled) {
        void this.start();
      } else {
        this._client.stop();
      }
    }
    this._changed();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._client.dispose();
    super.dispose();
  }

  private _onLinkChanged(): void {
    this._changed();
  }

  private _onMessage(_: IClient, message: Message): void {
    const before = this._tenants;
    this._tenants = reduce(before, message, this._now());
    if (message.kind === 'Snapshot' && message.body.mode) {
      this._mode = message.body.mode;
    }
    const change = Private.configChange(before, this._tenants, message);
    this._messageReceived.emit(message);
    if (change) {
      this._configChanged.emit(change);
    }
    this._changed();
  }

  private _changed(): void {
    this.stateChanged.emit(void 0);
    this._statusChanged.emit(this.status);
  }

  private _serverSettings: ServerConnection.ISettings;
  private _settings: IHotConfSettings;
  private _client: IClient;
  private _now: () => number;
  private _tenants: Tenants = new Map();
  private _info: IInfo | null = null;
  private _mode: string | null = null;
  private _started = false;
  private _missing = false;
  private _infoError: string | null = null;
  private _statusChanged = new Signal<this, IHotConf.IStatus>(this);
  private _configChanged = new Signal<this, IHotConf.IConfigChange>(this);
  private _messageReceived = new Signal<this, Message>(this);
}

export namespace HotConfModel {
  export interface IOptions {
    /** Where `hotconf/api/…` and the default socket live; JupyterLab's own by default. */
    serverSettings?: ServerConnection.ISettings;
    settings?: Partial<IHotConfSettings>;
    /**
     * Makes the link from the model's URL and backoff: a `HotConfClient` over a browser
     * WebSocket by default; the unit tests pass a scripted client (no socket).
     */
    createClient?: (options: IClientOptions) => IClient;
    /** The clock stamped on changes (`lastChange`); `Date.now` by default. */
    now?: () => number;
  }
}

namespace Private {
  export function policyOptions(s: IHotConfSettings) {
    return {
      base: s.reconnectDelay,
      max: s.maxReconnectDelay,
      maxAttempts: s.maxReconnectAttempts
    };
  }

  /** The config change a message made, if it made one (resyncs included). */
  export function configChange(
    before: Tenants,
    after: Tenants,
    message: Message
  ): IHotConf.IConfigChange | null {
    if (message.kind !== 'ConfigChanged' && message.kind !== 'Snapshot') {
      return null;
    }
    const tenantId = message.body.tenant_id;
    const prev: ITenantState | undefined = before.get(tenantId);
    const next = after.get(tenantId);
    if (!next || (prev && prev.revision === next.revision && prev.checksum === next.checksum)) {
      return null;
    }
    if (message.kind === 'Snapshot' && !prev) {
      return null; // the first Snapshot is the initial state, not a change
    }
    return {
      tenantId,
      changeType: message.kind === 'Snapshot' ? 'resync' : message.body.change_type,
      revision: next.revision,
      config: next.config,
      changedPaths: message.kind === 'ConfigChanged' ? message.body.changed_paths ?? [] : [],
      ...(message.kind === 'ConfigChanged' && message.body.source !== undefined
        ? { source: message.body.source, actor: message.body.actor ?? null }
        : {})
    };
  }
}
