/**
 * HistoryModel: one tenant's history as the history view shows it — the entries, the
 * selected one with its diff against the previous revision, and a rollback with its outcome.
 * It owns the state and the REST calls; HotConfHistoryView only draws it (docs/labextension.md).
 */
import { VDomModel } from '@jupyterlab/ui-components';
import { ISignal } from '@lumino/signaling';

import { diffRows, IDiffRow } from './diff';
import {
  explain,
  HISTORY_PAGE,
  HistoryAPI,
  IHistory,
  IHistoryEntry,
  IRollback
} from './history';
import { Message } from './protocol';

/** An entry with a key that stays the same across reloads (invalid ones have no revision). */
export interface IHistoryRow extends IHistoryEntry {
  key: string;
}

/** The selected entry's detail: its diff, or why there is none. */
export interface IDiffState {
  status: 'loading' | 'ready' | 'error';
  /** The revisions compared: `from` is `null` when there is no previous revision. */
  from: number | null;
  to: number | null;
  rows: IDiffRow[];
  /** The failure, said for a person (`explain`), when `status` is `error`. */
  error: string | null;
}

/** The last rollback: running, done (`notice`) or refused (`error`). */
export interface IRollbackState {
  busy: boolean;
  notice: string | null;
  error: string | null;
}

export class HistoryModel extends VDomModel {
  constructor(options: HistoryModel.IOptions) {
    super();
    this.tenant = options.tenant;
    this._api = options.api;
    this._confirm = options.confirm;
    this._current = options.current ?? (() => null);
    this._messages = options.messages ?? null;
    this._messages?.connect(this._onMessage, this);
  }

  readonly tenant: string;

  get entries(): readonly IHistoryRow[] {
    return this._entries;
  }

  get epoch(): string | null {
    return this._epoch;
  }

  /** True while the first page (or a reload of it) is on its way. */
  get loading(): boolean {
    return this._loading;
  }

  /** Why the history could not be read, or `null`. */
  get error(): string | null {
    return this._error;
  }

  /** The last page was full: older entries may exist. */
  get hasMore(): boolean {
    return this._hasMore;
  }

  get selected(): IHistoryRow | null {
    return this._entries.find(e => e.key === this._selectedKey) ?? null;
  }

  get diff(): IDiffState | null {
    return this._diff;
  }

  get rollbackState(): IRollbackState {
    return this._rollback;
  }

  /** The revision in force: the live one when the tenant is followed, else the newest. */
  get currentRevision(): number | null {
    return this._current() ?? this._entries.find(e => e.revision !== null)?.revision ?? null;
  }

  /**
   * Whether "Roll back to rN" applies to an entry: a revision with content (not an invalid
   * attempt, not a deletion) that is not the one already in force.
   */
  canRollBack(entry: IHistoryEntry): boolean {
    return (
      entry.revision !== null &&
      (entry.change_type === 'created' || entry.change_type === 'modified') &&
      entry.revision !== this.currentRevision
    );
  }

  /** (Re)load the newest page; the selection stays when its entry is still there. */
  async refresh(): Promise<void> {
    const seq = ++this._historySeq;
    this._loading = true;
    this._changed();
    let page: IHistory;
    try {
      page = await this._api.history(this.tenant, { limit: HISTORY_PAGE });
    } catch (err) {
      if (seq === this._historySeq) {
        this._loading = false;
        this._error = explain(err, 'history');
        this._changed();
      }
      return;
    }
    if (seq !== this._historySeq || this.isDisposed) {
      return; // a newer reload answers for the view
    }
    this._loading = false;
    this._error = null;
    this._epoch = page.epoch;
    this._entries = page.entries.map(Private.row);
    this._hasMore = page.entries.length >= HISTORY_PAGE;
    this._changed();
  }

  /** The next page back, from the oldest revision shown. */
  async loadOlder(): Promise<void> {
    const before = Private.oldestRevision(this._entries);
    if (before === null || !this._hasMore) {
      return;
    }
    const seq = this._historySeq;
    try {
      const page = await this._api.history(this.tenant, { limit: HISTORY_PAGE, before });
      if (seq !== this._historySeq || this.isDisposed) {
        return;
      }
      const known = new Set(this._entries.map(e => e.key));
      const older = page.entries.map(Private.row).filter(e => !known.has(e.key));
      this._entries = [...this._entries, ...older];
      this._hasMore = page.entries.length >= HISTORY_PAGE;
      this._error = null;
    } catch (err) {
      this._error = explain(err, 'history');
    }
    this._changed();
  }

  /**
   * Select an entry and show its diff against the previous revision: the server's patch
   * `diff?from=n-1&to=n`, read against revision n-1's config for the old values. Revision 1
   * is compared with nothing; an invalid attempt or a recovery shows no diff.
   */
  async select(key: string): Promise<void> {
    const entry = this._entries.find(e => e.key === key);
    if (!entry) {
      return;
    }
    this._selectedKey = key;
    const seq = ++this._diffSeq;
    const to = entry.revision;
    if (to === null || entry.change_type === 'invalid' || entry.change_type === 'recovered') {
      this._diff = null;
      this._changed();
      return;
    }
    if (to <= 1) {
      this._diff = Private.ready(null, to, diffRows(null, entry.patch));
      this._changed();
      return;
    }
    const from = to - 1;
    this._diff = { status: 'loading', from, to, rows: [], error: null };
    this._changed();
    let next: IDiffState;
    try {
      const [diff, before] = await Promise.all([
        this._api.diff(this.tenant, from, to),
        this._api.revision(this.tenant, from)
      ]);
      next = Private.ready(from, to, diffRows(before.config, diff.patch));
    } catch (err) {
      next = { status: 'error', from, to, rows: [], error: explain(err, 'diff') };
    }
    if (seq === this._diffSeq && !this.isDisposed) {
      this._diff = next;
      this._changed();
    }
  }

  /**
   * Roll back to `revision` once the user confirms. The new revision then arrives on the
   * socket as any change does, and the history reloads to show it.
   */
  async rollback(revision: number): Promise<IRollback | null> {
    if (this._rollback.busy || !(await this._confirm(revision))) {
      return null;
    }
    this._rollback = { busy: true, notice: null, error: null };
    this._changed();
    let result: IRollback;
    try {
      result = await this._api.rollback(this.tenant, revision);
    } catch (err) {
      this._rollback = { busy: false, notice: null, error: explain(err, 'rollback') };
      this._changed();
      return null;
    }
    this._rollback = {
      busy: false,
      notice: result.changed
        ? `Rolled back to r${revision}: the config is now revision r${result.revision}.`
        : `r${revision}'s content is already in force: nothing was changed.`,
      error: null
    };
    this._changed();
    await this.refresh();
    return result;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._messages?.disconnect(this._onMessage, this);
    super.dispose();
  }

  /** Any news of this tenant on the socket is a new entry: reload. */
  private _onMessage(_: unknown, message: Message): void {
    if (message.kind === 'Ping' || message.kind === 'Pong') {
      return;
    }
    if (message.body.tenant_id === this.tenant) {
      void this.refresh();
    }
  }

  private _changed(): void {
    if (!this.isDisposed) {
      this.stateChanged.emit(void 0);
    }
  }

  private _api: HistoryModel.ICalls;
  private _confirm: (revision: number) => Promise<boolean>;
  private _current: () => number | null;
  private _messages: ISignal<unknown, Message> | null;
  private _entries: IHistoryRow[] = [];
  private _epoch: string | null = null;
  private _loading = false;
  private _error: string | null = null;
  private _hasMore = false;
  private _selectedKey: string | null = null;
  private _diff: IDiffState | null = null;
  private _rollback: IRollbackState = { busy: false, notice: null, error: null };
  private _historySeq = 0;
  private _diffSeq = 0;
}

export namespace HistoryModel {
  /** The REST calls the model makes (a `HistoryAPI`; tests may pass their own). */
  export type ICalls = Pick<HistoryAPI, 'history' | 'revision' | 'diff' | 'rollback'>;

  export interface IOptions {
    tenant: string;
    api: ICalls;
    /** Asks the user before a rollback (the view's `showDialog`); `false` cancels. */
    confirm: (revision: number) => Promise<boolean>;
    /** The tenant's live revision, when it is followed. */
    current?: () => number | null;
    /** The socket's messages (`HotConfModel.messageReceived`): the history reloads on news. */
    messages?: ISignal<unknown, Message>;
  }
}

namespace Private {
  export function row(entry: IHistoryEntry): IHistoryRow {
    const key = `${entry.timestamp}|${entry.revision ?? '-'}|${entry.change_type}`;
    return { ...entry, key };
  }

  export function oldestRevision(entries: readonly IHistoryEntry[]): number | null {
    const revisions = entries.map(e => e.revision).filter((r): r is number => r !== null);
    return revisions.length ? Math.min(...revisions) : null;
  }

  export function ready(from: number | null, to: number, rows: IDiffRow[]): IDiffState {
    return { status: 'ready', from, to, rows, error: null };
  }
}
