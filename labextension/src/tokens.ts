/**
 * The `IHotConf` service other extensions require to hot-reload themselves.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

import { IHistory, IRollback } from './history';
import { IConfigError } from './protocol';
import { IAggregate, ITenantState } from './state';

export const IHotConf = new Token<IHotConf>(
  'jupyter-hotconf:IHotConf',
  'Live per-tenant configuration from jupyter-hotconf: status, changes and getConfig.'
);

export interface IHotConf {
  /** The link and the validity of the followed tenants, as the status item shows it. */
  readonly status: IHotConf.IStatus;
  /** Emitted whenever `status` may have changed. */
  readonly statusChanged: ISignal<IHotConf, IHotConf.IStatus>;
  /** Emitted for every new valid config of a tenant (a change, or a resync that moved). */
  readonly configChanged: ISignal<IHotConf, IHotConf.IConfigChange>;
  /** Every followed tenant the server told us of. */
  readonly tenants: ReadonlyMap<string, ITenantState>;
  /**
   * The tenant's merged last-known-good config: from the live cache when the tenant is
   * followed, else fetched from `hotconf/api/tenants/{t}`; `null` if it has none.
   */
  getConfig(tenant: string): Promise<Record<string, unknown> | null>;
  /**
   * The tenant's audit entries, newest first, from `hotconf/api/tenants/{t}/history`
   * (docs/history.md); `before` pages back from a revision. Rejects with `HotConfAPIError`
   * (403 no permission, 404 unknown tenant, 503 history off).
   */
  history(tenant: string, options?: { limit?: number; before?: number | null }): Promise<IHistory>;
  /**
   * Write revision `revision`'s content back to the tenant's file; resolves once the server
   * applied it. The new revision also arrives as a normal change (`configChanged`).
   */
  rollback(tenant: string, revision: number): Promise<IRollback>;
  /** Drop the link and connect again at once. */
  reconnect(): void;
}

export namespace IHotConf {
  export interface IStatus extends IAggregate {
    /** Server mode from `hotconf/api/info` or the Snapshot: `dev`, `demo` or `prod`. */
    mode: string | null;
    /** Why the link is not connected (close reason, HTTP error), else `null`. */
    lastError: string | null;
  }

  export interface IConfigChange {
    tenantId: string;
    changeType: 'created' | 'modified' | 'deleted' | 'resync';
    revision: number;
    config: Record<string, unknown> | null;
    changedPaths: string[];
    /** What caused it (`watcher`, `startup`, `api`, `rollback`), when the server says. */
    source?: string;
    /** Who, for `api` and `rollback` changes, when the server knows. */
    actor?: string | null;
  }

  export interface IInvalid {
    tenantId: string;
    error: IConfigError;
  }
}
