/**
 * The history REST calls (docs/history.md, "REST"): a tenant's audit entries, one revision,
 * the diff between two, and a rollback; and how their failures are told to a person.
 *
 * No DOM: the history model and the unit tests use it with JupyterLab's ServerConnection
 * over any `fetch`.
 */
import { ServerConnection } from '@jupyterlab/services';

import { IJSONObject, IPatchOp } from './diff';
import { HotConfAPIError, requestAPI } from './handler';
import { IConfigError } from './protocol';

/** What caused an entry (docs/history.md, "What is recorded"). */
export type HistorySource = 'watcher' | 'startup' | 'api' | 'rollback';

export type HistoryChangeType = 'created' | 'modified' | 'deleted' | 'invalid' | 'recovered';

/** One audit entry, newest first in `IHistory.entries`. */
export interface IHistoryEntry {
  /** `null` for an invalid attempt (the last good config stayed in force). */
  revision: number | null;
  /** UTC, ISO 8601 with milliseconds and `Z`. */
  timestamp: string;
  change_type: HistoryChangeType;
  source: HistorySource | string;
  /** The Jupyter user (or JWT `sub`) for `api`/`rollback`; `null` for file edits. */
  actor: string | null;
  checksum: string | null;
  changed_paths: string[];
  /** RFC 6902 from the previous valid revision. */
  patch: IPatchOp[];
  file: string | null;
  error: IConfigError | null;
}

/** `GET tenants/{t}/history`. */
export interface IHistory {
  tenant_id: string;
  epoch: string;
  entries: IHistoryEntry[];
}

/** `GET tenants/{t}/revisions/{n}`: `config`/`document` are `null` for a deletion. */
export interface IRevision {
  tenant_id: string;
  revision: number;
  checksum: string | null;
  timestamp: string;
  config: IJSONObject | null;
  document: IJSONObject | null;
}

/** `GET tenants/{t}/diff?from=a&to=b`. */
export interface IRevisionDiff {
  from: number;
  to: number;
  patch: IPatchOp[];
  changed_paths: string[];
}

/** `POST tenants/{t}/rollback`: `changed` is false when revision n was already in force. */
export interface IRollback {
  revision: number;
  checksum: string | null;
  rolled_back_to: number;
  changed: boolean;
}

/** The page size the view asks for. */
export const HISTORY_PAGE = 50;

/** The history calls against one Jupyter server's `{base_url}hotconf/api/`. */
export class HistoryAPI {
  constructor(serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()) {
    this._settings = serverSettings;
  }

  /** Entries newest first; `before` pages back from a revision (exclusive). */
  async history(
    tenant: string,
    options: { limit?: number; before?: number | null } = {}
  ): Promise<IHistory> {
    const query = new URLSearchParams({ limit: String(options.limit ?? HISTORY_PAGE) });
    if (options.before !== undefined && options.before !== null) {
      query.set('before', String(options.before));
    }
    const body = await requestAPI<IHistory>(
      `${Private.tenantPath(tenant)}/history?${query}`,
      {},
      this._settings
    );
    return parseHistory(body);
  }

  revision(tenant: string, revision: number): Promise<IRevision> {
    return requestAPI<IRevision>(
      `${Private.tenantPath(tenant)}/revisions/${revision}`,
      {},
      this._settings
    );
  }

  diff(tenant: string, from: number, to: number): Promise<IRevisionDiff> {
    return requestAPI<IRevisionDiff>(
      `${Private.tenantPath(tenant)}/diff?from=${from}&to=${to}`,
      {},
      this._settings
    );
  }

  /** Write revision `n`'s document back; answers once the server applied it. */
  rollback(tenant: string, revision: number): Promise<IRollback> {
    return requestAPI<IRollback>(
      `${Private.tenantPath(tenant)}/rollback`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ revision })
      },
      this._settings
    );
  }

  private _settings: ServerConnection.ISettings;
}

/**
 * The history answer with every entry's optional parts filled (`[]`, `null`), so the view
 * never meets `undefined`; an answer that is not a history at all is an error, not an
 * empty list.
 */
export function parseHistory(body: unknown): IHistory {
  const data = body as Partial<IHistory> | null;
  if (!data || typeof data !== 'object' || !Array.isArray(data.entries)) {
    throw new Error('the server did not answer with a history (no "entries")');
  }
  const entries = data.entries.map(
    (e): IHistoryEntry => ({
      revision: typeof e.revision === 'number' ? e.revision : null,
      timestamp: String(e.timestamp ?? ''),
      change_type: e.change_type,
      source: e.source ?? 'watcher',
      actor: e.actor ?? null,
      checksum: e.checksum ?? null,
      changed_paths: Array.isArray(e.changed_paths) ? e.changed_paths : [],
      patch: Array.isArray(e.patch) ? e.patch : [],
      file: e.file ?? null,
      error: e.error ?? null
    })
  );
  return { tenant_id: String(data.tenant_id ?? ''), epoch: String(data.epoch ?? ''), entries };
}

/** What was being done, for `explain`: the failure names it. */
export type HistoryAction = 'history' | 'diff' | 'rollback';

/**
 * A failed history call as one sentence a person can act on: no permission or read-only
 * (403), unknown or pruned revision (404), a refused rollback (409: a deletion, no stored
 * document), history off (503), a write not applied in time (504), server unreachable.
 */
export function explain(error: unknown, action: HistoryAction): string {
  const doing = {
    history: 'Cannot read the history',
    diff: 'Cannot show the diff',
    rollback: 'Cannot roll back'
  }[action];
  if (error instanceof ServerConnection.NetworkError) {
    return `${doing}: the server cannot be reached (${error.message}).`;
  }
  if (!(error instanceof HotConfAPIError)) {
    return `${doing}: ${error instanceof Error ? error.message : String(error)}.`;
  }
  const reason = error.reason ? `: ${error.reason}` : '';
  switch (error.status) {
    case 401:
    case 403:
      return action === 'rollback'
        ? `${doing}: not allowed — the server is read-only or you lack write permission (${error.status}${reason}).`
        : `${doing}: not allowed (${error.status}${reason}).`;
    case 404:
      return `${doing}: not found — unknown tenant, or a revision no longer kept (404${reason}).`;
    case 409:
      // e.g. a rollback to a deletion, or to a revision whose document was not kept
      return `${doing}: refused by the server (409${reason}).`;
    case 503:
      return `${doing}: history is off or unavailable on this server (503${reason}).`;
    case 504:
      return `${doing}: the file was written but not seen applied in time (504${reason}).`;
    default:
      return `${doing}: the server answered ${error.status}${reason}.`;
  }
}

namespace Private {
  export function tenantPath(tenant: string): string {
    return `tenants/${encodeURIComponent(tenant)}`;
  }
}
