/**
 * The `IHotConf` service other extensions require to hot-reload themselves.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

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
  }

  export interface IInvalid {
    tenantId: string;
    error: IConfigError;
  }
}
