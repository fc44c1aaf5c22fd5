/**
 * The history view of one tenant, opened from the panel's row: its entries (revision, time,
 * change, source, actor, changed paths; invalid attempts with their error), the selected
 * entry's diff against the previous revision, and "Roll back to rN". It only draws the
 * HistoryModel; every click calls the model.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { VDomRenderer } from '@jupyterlab/ui-components';
import React from 'react';

import { formatValue, IDiffRow } from './diff';
import { HistoryModel, IDiffState, IHistoryRow } from './historymodel';
import { describeError } from './protocol';

export class HotConfHistoryView extends VDomRenderer<HistoryModel> {
  constructor(model: HistoryModel) {
    super(model);
    this.id = HotConfHistoryView.idFor(model.tenant);
    this.addClass('jp-hotconf-history');
    this.node.dataset.tenant = model.tenant;
    this.title.label = `hotconf history: ${model.tenant}`;
    this.title.caption = `Revisions of ${model.tenant}: what changed, when, by whom; diff and rollback`;
    this.title.closable = true;
  }

  /** One view per tenant: the widget id that finds it again. */
  static idFor(tenant: string): string {
    return `jp-hotconf-history-${tenant}`;
  }

  dispose(): void {
    const model = this.model;
    super.dispose();
    model?.dispose(); // the view made for this tenant is the model's only user
  }

  render(): JSX.Element {
    const m = this.model;
    const selected = m.selected;
    const current = m.currentRevision;
    return (
      <div className="jp-hotconf-history-body">
        <header>
          <strong>{m.tenant}</strong>
          <span className="jp-hotconf-history-current">
            {current === null ? 'no revision yet' : `in force: r${current}`}
          </span>
          <button className="jp-mod-styled jp-hotconf-history-refresh" onClick={() => void m.refresh()}>
            Refresh
          </button>
        </header>
        {m.error ? (
          <div className="jp-hotconf-history-alert jp-hotconf-error" role="alert">
            {m.error}
          </div>
        ) : null}
        <Private.RollbackOutcome model={m} />
        <table className="jp-hotconf-table jp-hotconf-history-table">
          <thead>
            <tr>
              <th>revision</th>
              <th>time</th>
              <th>change</th>
              <th>source</th>
              <th>actor</th>
              <th>changed paths</th>
            </tr>
          </thead>
          <tbody>
            {m.entries.length === 0 ? (
              <tr>
                <td colSpan={6}>{m.loading ? 'Loading…' : m.error ? '' : 'No history yet.'}</td>
              </tr>
            ) : (
              m.entries.map(e => (
                <Private.EntryRow
                  key={e.key}
                  entry={e}
                  selected={e.key === selected?.key}
                  current={e.revision !== null && e.revision === current}
                  onSelect={() => void m.select(e.key)}
                />
              ))
            )}
          </tbody>
        </table>
        {m.hasMore ? (
          <button className="jp-mod-styled jp-hotconf-history-older" onClick={() => void m.loadOlder()}>
            Older entries
          </button>
        ) : null}
        {selected ? <Private.Detail model={m} entry={selected} diff={m.diff} /> : null}
      </div>
    );
  }
}

/**
 * Ask before a rollback (`HistoryModel`'s `confirm`): what will happen, and that nothing in
 * the history is lost.
 */
export async function confirmRollback(tenant: string, revision: number): Promise<boolean> {
  const result = await showDialog({
    title: `Roll back ${tenant} to r${revision}?`,
    body:
      `The tenant's file is rewritten with revision ${revision}'s content (in the file's own ` +
      'format). That becomes a new revision; the history keeps every revision before it.',
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: `Roll back to r${revision}` })]
  });
  return result.button.accept;
}

namespace Private {
  export function EntryRow(props: {
    entry: IHistoryRow;
    selected: boolean;
    current: boolean;
    onSelect: () => void;
  }): JSX.Element {
    const e = props.entry;
    const classes = [
      'jp-hotconf-history-entry',
      `jp-hotconf-change-${e.change_type}`,
      props.selected ? 'jp-mod-selected' : '',
      props.current ? 'jp-hotconf-history-in-force' : ''
    ];
    return (
      <tr
        className={classes.join(' ').trim()}
        data-revision={e.revision ?? ''}
        data-change={e.change_type}
        onClick={props.onSelect}
        aria-selected={props.selected}
        tabIndex={0}
        onKeyDown={event => {
          if (event.key === 'Enter' || event.key === ' ') {
            props.onSelect();
          }
        }}
      >
        <td>{e.revision === null ? '—' : `r${e.revision}`}</td>
        <td title={e.timestamp}>{time(e.timestamp)}</td>
        <td>{e.change_type}</td>
        <td>{e.source}</td>
        <td>{e.actor ?? ''}</td>
        <td>
          {e.error ? (
            <span className="jp-hotconf-error">{describeError(e.error)}</span>
          ) : (
            e.changed_paths.map(p => (
              <code key={p} className="jp-hotconf-history-path">
                {p}
              </code>
            ))
          )}
        </td>
      </tr>
    );
  }

  export function Detail(props: {
    model: HistoryModel;
    entry: IHistoryRow;
    diff: IDiffState | null;
  }): JSX.Element {
    const { model, entry, diff } = props;
    const n = entry.revision;
    let body: JSX.Element;
    if (entry.change_type === 'invalid') {
      body = (
        <p className="jp-hotconf-error">
          Refused edit{entry.file ? ` of ${entry.file}` : ''}: the last good config stayed in
          force. {entry.error ? describeError(entry.error) : ''}
        </p>
      );
    } else if (entry.change_type === 'recovered') {
      body = <p>The file was fixed back to the config already in force (r{n}): nothing changed.</p>;
    } else if (!diff || diff.status === 'loading') {
      body = <p>Loading the diff…</p>;
    } else if (diff.status === 'error') {
      body = (
        <p className="jp-hotconf-error" role="alert">
          {diff.error}
        </p>
      );
    } else {
      body = <DiffTable rows={diff.rows} />;
    }
    const title =
      n === null
        ? 'Invalid attempt'
        : diff?.from !== null && diff?.from !== undefined
          ? `r${n} against r${diff.from}`
          : `r${n}`;
    return (
      <section className="jp-hotconf-history-detail" data-revision={n ?? ''}>
        <h3>{title}</h3>
        {body}
        {n !== null && entry.change_type !== 'invalid' ? (
          <button
            className="jp-mod-styled jp-mod-warn jp-hotconf-rollback"
            disabled={!model.canRollBack(entry) || model.rollbackState.busy}
            title={
              n === model.currentRevision
                ? `r${n} is in force`
                : entry.change_type === 'deleted'
                  ? 'A deletion has no content to roll back to'
                  : `Write r${n}'s content back to the tenant's file`
            }
            onClick={() => void model.rollback(n)}
          >
            {model.rollbackState.busy ? 'Rolling back…' : `Roll back to r${n}`}
          </button>
        ) : null}
      </section>
    );
  }

  export function DiffTable(props: { rows: IDiffRow[] }): JSX.Element {
    if (props.rows.length === 0) {
      return <p>No change in the merged config.</p>;
    }
    return (
      <table className="jp-hotconf-table jp-hotconf-diff">
        <thead>
          <tr>
            <th>path</th>
            <th>before</th>
            <th></th>
            <th>after</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r, i) => (
            <tr key={`${i}:${r.path}`} className={`jp-hotconf-diff-${r.kind}`} data-path={r.path}>
              <td>
                <code>{r.path}</code>
              </td>
              <td className="jp-hotconf-diff-old">
                <code>{formatValue(r.old)}</code>
              </td>
              <td className="jp-hotconf-diff-arrow">→</td>
              <td className="jp-hotconf-diff-new">
                <code>{formatValue(r.new)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }

  export function RollbackOutcome(props: { model: HistoryModel }): JSX.Element | null {
    const { notice, error } = props.model.rollbackState;
    if (error) {
      return (
        <div className="jp-hotconf-history-alert jp-hotconf-error" role="alert">
          {error}
        </div>
      );
    }
    return notice ? <div className="jp-hotconf-history-notice">{notice}</div> : null;
  }

  /** Local date and time to the second; the exact UTC stamp is the cell's tooltip. */
  function time(timestamp: string): string {
    const date = new Date(timestamp);
    return Number.isNaN(date.getTime()) ? timestamp : date.toLocaleString();
  }
}
