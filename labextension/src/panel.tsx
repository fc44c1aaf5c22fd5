/**
 * The panel opened from the status item: one row per followed tenant (status, revision,
 * last change, last error, a History button that opens its history view) and a reconnect
 * button.
 */
import React from 'react';

import { HotConfModel } from './model';
import { describeError } from './protocol';
import { ago, ITenantState, summary } from './state';
import { TickingRenderer } from './ticking';

export class HotConfPanel extends TickingRenderer<HotConfModel> {
  /** `onHistory(tenant)` opens that tenant's history view (the show-history command). */
  constructor(model: HotConfModel, onHistory: (tenant: string) => void) {
    super(model);
    this._onHistory = onHistory;
    this.id = 'jp-hotconf-panel';
    this.addClass('jp-hotconf-panel');
    this.title.label = 'hotconf';
    this.title.caption = 'hotconf: live configuration status';
    this.title.closable = true;
  }


  render(): JSX.Element {
    const now = Date.now();
    const status = this.model.status;
    const rows = [...this.model.tenants.values()].sort((a, b) =>
      a.tenantId.localeCompare(b.tenantId)
    );
    return (
      <div className="jp-hotconf-panel-body">
        <header className={`jp-hotconf-level-${status.level}`}>
          <strong>{summary(status, now)}</strong>
          {status.mode ? <span className="jp-hotconf-mode"> mode: {status.mode}</span> : null}
          {status.lastError ? <div className="jp-hotconf-error">{status.lastError}</div> : null}
          <button
            className="jp-mod-styled jp-mod-accept jp-hotconf-reconnect"
            onClick={() => this.model.reconnect()}
          >
            Reconnect
          </button>
        </header>
        <table className="jp-hotconf-table">
          <thead>
            <tr>
              <th>tenant</th>
              <th>status</th>
              <th>revision</th>
              <th>last change</th>
              <th>last error</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={6}>No tenant yet.</td>
              </tr>
            ) : (
              rows.map(t => Private.row(t, now, this._onHistory))
            )}
          </tbody>
        </table>
      </div>
    );
  }

  private _onHistory: (tenant: string) => void;
}

namespace Private {
  export function row(
    t: ITenantState,
    now: number,
    onHistory: (tenant: string) => void
  ): JSX.Element {
    const state = !t.valid ? 'invalid' : t.exists ? 'valid' : 'no file';
    return (
      <tr key={t.tenantId} data-tenant={t.tenantId} className={`jp-hotconf-row-${state.replace(' ', '-')}`}>
        <td>{t.tenantId}</td>
        <td>{state}</td>
        <td>{t.revision}</td>
        <td>{ago(t.lastChange, now)}</td>
        <td className="jp-hotconf-error">{t.error ? describeError(t.error) : ''}</td>
        <td>
          <button
            className="jp-mod-styled jp-hotconf-history-open"
            title={`Revisions of ${t.tenantId}: diff and rollback`}
            onClick={() => onHistory(t.tenantId)}
          >
            History
          </button>
        </td>
      </tr>
    );
  }
}
