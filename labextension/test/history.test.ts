// @vitest-environment jsdom
// HistoryModel's base class (VDomModel) needs a DOM; see model.test.ts.
import './dom-shim';

import { ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';
import { describe, expect, it } from 'vitest';

import { diffRows, formatValue, IPatchOp, lookup, parsePointer } from '../src/diff';
import { HotConfAPIError } from '../src/handler';
import { explain, HistoryAPI, IHistoryEntry, parseHistory } from '../src/history';
import { HistoryModel } from '../src/historymodel';
import { decode, Message } from '../src/protocol';

type Answer = { status: number; body: unknown } | 'network';

interface ISent {
  method: string;
  path: string;
  body: string;
}

/**
 * JupyterLab's real ServerConnection over a scripted `fetch`: `answers` maps
 * "METHOD path?query" under `hotconf/api/` to the server's answer; a function answer sees
 * how many times it was asked.
 */
function server(answers: Record<string, Answer | ((n: number) => Answer)>) {
  const sent: ISent[] = [];
  const asked = new Map<string, number>();
  const gates: Array<() => void> = [];
  let held: Promise<void> | null = null;
  const fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const request = input as Request;
    // Without ServerConnection's cache-busting timestamp.
    const url = request.url.replace(/[?&]\d{12,}$/, '');
    const path = decodeURIComponent(url.split('/hotconf/api/')[1] ?? '');
    const key = `${request.method} ${path}`;
    sent.push({ method: request.method, path, body: await request.text() });
    if (held) {
      await held;
    }
    const n = (asked.get(key) ?? 0) + 1;
    asked.set(key, n);
    const found = answers[key];
    const answer = typeof found === 'function' ? found(n) : found;
    if (answer === undefined) {
      return new Response(JSON.stringify({ message: `no route ${key}` }), { status: 404 });
    }
    if (answer === 'network') {
      throw new TypeError('Failed to fetch');
    }
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://lab/base/',
    wsUrl: 'ws://lab/base/',
    token: 'secret',
    fetch
  });
  return {
    api: new HistoryAPI(settings),
    sent,
    /** Hold every answer until the returned release is called. */
    hold(): () => void {
      held = new Promise(resolve => gates.push(resolve));
      return () => {
        held = null;
        gates.splice(0).forEach(open => open());
      };
    }
  };
}

function entry(revision: number | null, extra: Partial<IHistoryEntry> = {}): IHistoryEntry {
  return {
    revision,
    timestamp: `2026-11-29T10:00:0${revision ?? 9}.000Z`,
    change_type: revision === null ? 'invalid' : revision === 1 ? 'created' : 'modified',
    source: 'watcher',
    actor: null,
    checksum: revision === null ? null : `sha256:${revision}`,
    changed_paths: ['/pricing/discount'],
    patch: [{ op: 'replace', path: '/pricing/discount', value: revision ?? 0 }],
    file: 'private/acme.json',
    error: null,
    ...extra
  };
}

const HISTORY = {
  tenant_id: 'acme',
  epoch: 'e1',
  entries: [
    entry(3, { source: 'api', actor: 'alice' }),
    entry(null, {
      changed_paths: [],
      patch: [],
      error: { file: 'private/acme.json', line: 3, column: 1, pointer: null, message: 'Expecting value' }
    }),
    entry(2),
    entry(1, { patch: [{ op: 'add', path: '/pricing', value: { discount: 0.15 } }] })
  ]
};

function model(
  answers: Record<string, Answer | ((n: number) => Answer)>,
  options: { confirm?: boolean; current?: number | null } = {}
) {
  const s = server(answers);
  const confirmed: number[] = [];
  const messages = new Signal<unknown, Message>({});
  const m = new HistoryModel({
    tenant: 'acme',
    api: s.api,
    confirm: async revision => {
      confirmed.push(revision);
      return options.confirm ?? true;
    },
    current: () => options.current ?? null,
    messages
  });
  const changes = { count: 0 };
  m.stateChanged.connect(() => (changes.count += 1));
  return { m, ...s, confirmed, messages, changes };
}

const LIST = 'GET tenants/acme/history?limit=50';

describe('diffRows', () => {
  it('reads each op as path: old → new against the previous config', () => {
    const before = { pricing: { discount: 0.15, tiers: ['a', 'b'] }, name: 'Acme', gone: 1 };
    const patch: IPatchOp[] = [
      { op: 'replace', path: '/pricing/discount', value: 0.3 },
      { op: 'add', path: '/features', value: { beta: true } },
      { op: 'remove', path: '/gone' },
      { op: 'move', from: '/name', path: '/title' }
    ];
    expect(diffRows(before, patch)).toEqual([
      { path: '/pricing/discount', kind: 'changed', old: 0.15, new: 0.3 },
      { path: '/features', kind: 'added', new: { beta: true } },
      { path: '/gone', kind: 'removed', old: 1 },
      { path: '/name', kind: 'removed', old: 'Acme' },
      { path: '/title', kind: 'added', new: 'Acme' }
    ]);
    expect(before.gone).toBe(1); // the previous config is not touched
  });

  it('applies ops in turn, so array indices mean what the patch meant', () => {
    const before = { tiers: ['a', 'b', 'c'] };
    const patch: IPatchOp[] = [
      { op: 'remove', path: '/tiers/0' },
      { op: 'remove', path: '/tiers/0' }, // was 'b' once 'a' is gone
      { op: 'add', path: '/tiers/-', value: 'd' },
      { op: 'copy', from: '/tiers/0', path: '/first' }
    ];
    expect(diffRows(before, patch)).toEqual([
      { path: '/tiers/0', kind: 'removed', old: 'a' },
      { path: '/tiers/0', kind: 'removed', old: 'b' },
      { path: '/tiers/-', kind: 'added', new: 'd' },
      { path: '/first', kind: 'added', new: 'c' }
    ]);
  });

  it('compares with nothing when there is no previous revision, and unescapes pointers', () => {
    expect(diffRows(null, [{ op: 'add', path: '/a~1b', value: 1 }])).toEqual([
      { path: '/a~1b', kind: 'added', new: 1 }
    ]);
    expect(parsePointer('/a~1b/c~0d')).toEqual(['a/b', 'c~d']);
    expect(lookup({ 'a/b': { 'c~d': [5] } }, '/a~1b/c~0d/0')).toBe(5);
    expect(lookup({ a: 1 }, '/a/b')).toBeUndefined();
    expect(() => parsePointer('a')).toThrow(/not a JSON pointer/);
  });

  it('formats values so "1" and 1 differ, and absence is a dash', () => {
    expect([formatValue('1'), formatValue(1), formatValue(undefined), formatValue(null)]).toEqual([
      '"1"',
      '1',
      '—',
      'null'
    ]);
  });
});

describe('parseHistory and explain', () => {
  it('fills what an entry leaves out and refuses what is not a history', () => {
    const parsed = parseHistory({
      tenant_id: 'acme',
      epoch: 'e1',
      entries: [{ revision: 2, timestamp: 't', change_type: 'modified', source: 'watcher' }]
    });
    expect(parsed.entries[0]).toEqual({
      revision: 2,
      timestamp: 't',
      change_type: 'modified',
      source: 'watcher',
      actor: null,
      checksum: null,
      changed_paths: [],
      patch: [],
      file: null,
      error: null
    });
    expect(() => parseHistory({ tenant_id: 'acme' })).toThrow(/no "entries"/);
    expect(() => parseHistory(null)).toThrow(/no "entries"/);
  });

  it('says what went wrong for each kind of failure', () => {
    const err = (status: number) => new HotConfAPIError(status, `x: ${status}`, 'why');
    expect(explain(err(403), 'rollback')).toBe(
      'Cannot roll back: not allowed — the server is read-only or you lack write permission (403: why).'
    );
    expect(explain(err(403), 'history')).toBe('Cannot read the history: not allowed (403: why).');
    expect(explain(err(404), 'diff')).toMatch(/^Cannot show the diff: not found .*no longer kept/);
    expect(explain(err(409), 'rollback')).toBe('Cannot roll back: refused by the server (409: why).');
    expect(explain(err(504), 'rollback')).toMatch(/written but not seen applied in time \(504: why\)/);
    expect(explain(err(503), 'rollback')).toMatch(/history is off or unavailable .*\(503: why\)/);
    expect(explain(err(500), 'rollback')).toBe('Cannot roll back: the server answered 500: why.');
    const network = new ServerConnection.NetworkError(new TypeError('Failed to fetch'));
    expect(explain(network, 'history')).toBe(
      'Cannot read the history: the server cannot be reached (Failed to fetch).'
    );
  });
});

describe('HistoryAPI', () => {
  it('asks the routes of docs/history.md with their query and body', async () => {
    const { api, sent } = server({
      [LIST]: { status: 200, body: HISTORY },
      'GET tenants/acme/history?limit=10&before=3': { status: 200, body: { ...HISTORY, entries: [] } },
      'GET tenants/acme/diff?from=1&to=2': {
        status: 200,
        body: { from: 1, to: 2, patch: [], changed_paths: [] }
      },
      'GET tenants/acme/revisions/1': { status: 200, body: { revision: 1, config: {} } },
      'POST tenants/acme/rollback': {
        status: 200,
        body: { revision: 4, checksum: 'sha256:1', rolled_back_to: 1, changed: true }
      }
    });
    expect((await api.history('acme')).entries.map(e => e.revision)).toEqual([3, null, 2, 1]);
    expect((await api.history('acme', { limit: 10, before: 3 })).entries).toEqual([]);
    expect((await api.diff('acme', 1, 2)).to).toBe(2);
    expect((await api.revision('acme', 1)).revision).toBe(1);
    expect(await api.rollback('acme', 1)).toEqual({
      revision: 4,
      checksum: 'sha256:1',
      rolled_back_to: 1,
      changed: true
    });
    expect(sent.map(s => `${s.method} ${s.path}`)).toEqual([
      LIST,
      'GET tenants/acme/history?limit=10&before=3',
      'GET tenants/acme/diff?from=1&to=2',
      'GET tenants/acme/revisions/1',
      'POST tenants/acme/rollback'
    ]);
    expect(JSON.parse(sent[4].body)).toEqual({ revision: 1 });
  });

  it('rejects with the status and the server reason, naming the method', async () => {
    const { api } = server({
      'POST tenants/acme/rollback': { status: 403, body: { message: 'read-only server' } }
    });
    const error = await api.rollback('acme', 1).catch(e => e);
    expect(error).toBeInstanceOf(HotConfAPIError);
    expect(error).toMatchObject({ status: 403, reason: 'read-only server' });
    expect(error.message).toBe('POST tenants/acme/rollback: 403 read-only server');
  });
});

describe('HistoryModel', () => {
  it('loads the entries newest first, invalid attempts with their error', async () => {
    const { m } = model({ [LIST]: { status: 200, body: HISTORY } });
    await m.refresh();
    expect(m.error).toBeNull();
    expect(m.loading).toBe(false);
    expect(m.entries.map(e => [e.revision, e.change_type, e.source, e.actor])).toEqual([
      [3, 'modified', 'api', 'alice'],
      [null, 'invalid', 'watcher', null],
      [2, 'modified', 'watcher', null],
      [1, 'created', 'watcher', null]
    ]);
    expect(m.entries[1].error?.message).toBe('Expecting value');
    expect(m.currentRevision).toBe(3); // not followed: the newest revision
    expect(m.hasMore).toBe(false);
  });

  it('shows the selected entry against the previous revision, old → new', async () => {
    const { m, sent } = model({
      [LIST]: { status: 200, body: HISTORY },
      'GET tenants/acme/diff?from=1&to=2': {
        status: 200,
        body: {
          from: 1,
          to: 2,
          patch: [{ op: 'replace', path: '/pricing/discount', value: 0.3 }],
          changed_paths: ['/pricing/discount']
        }
      },
      'GET tenants/acme/revisions/1': {
        status: 200,
        body: { revision: 1, config: { pricing: { discount: 0.15 } } }
      }
    });
    await m.refresh();
    await m.select(m.entries[2].key);
    expect(m.selected?.revision).toBe(2);
    expect(m.diff).toEqual({
      status: 'ready',
      from: 1,
      to: 2,
      error: null,
      rows: [{ path: '/pricing/discount', kind: 'changed', old: 0.15, new: 0.3 }]
    });
    expect(sent.map(s => s.path)).toContain('tenants/acme/revisions/1');

    const asked = sent.length;
    await m.select(m.entries[3].key); // r1: nothing before it, no request
    expect(m.diff).toMatchObject({ status: 'ready', from: null, to: 1 });
    expect(m.diff?.rows).toEqual([{ path: '/pricing', kind: 'added', new: { discount: 0.15 } }]);
    await m.select(m.entries[1].key); // an invalid attempt: its error, no diff
    expect(m.diff).toBeNull();
    expect(m.selected?.change_type).toBe('invalid');
    expect(sent).toHaveLength(asked);
  });

  it('says why a diff cannot be shown (a pruned revision)', async () => {
    const { m } = model({
      [LIST]: { status: 200, body: HISTORY },
      'GET tenants/acme/diff?from=2&to=3': { status: 404, body: { message: 'revision 2 pruned' } },
      'GET tenants/acme/revisions/2': { status: 404, body: { message: 'revision 2 pruned' } }
    });
    await m.refresh();
    await m.select(m.entries[0].key);
    expect(m.diff?.status).toBe('error');
    expect(m.diff?.error).toMatch(/^Cannot show the diff: not found .*revision 2 pruned/);
  });

  it('keeps only the latest selection when answers cross', async () => {
    const { m, hold } = model({
      [LIST]: { status: 200, body: HISTORY },
      'GET tenants/acme/diff?from=2&to=3': {
        status: 200,
        body: { from: 2, to: 3, patch: [], changed_paths: [] }
      },
      'GET tenants/acme/revisions/2': { status: 200, body: { revision: 2, config: {} } }
    });
    await m.refresh();
    const release = hold();
    const slow = m.select(m.entries[0].key); // r3: its answers are held
    await m.select(m.entries[3].key); // r1 needs no request
    release();
    await slow;
    expect(m.selected?.revision).toBe(1);
    expect(m.diff).toMatchObject({ to: 1, from: null });
  });

  it('rolls back only after the user confirms, then reloads', async () => {
    const after = {
      ...HISTORY,
      entries: [entry(4, { source: 'rollback', actor: 'alice' }), ...HISTORY.entries]
    };
    const { m, sent, confirmed } = model({
      [LIST]: n => ({ status: 200, body: n === 1 ? HISTORY : after }),
      'POST tenants/acme/rollback': {
        status: 200,
        body: { revision: 4, checksum: 'sha256:1', rolled_back_to: 1, changed: true }
      }
    });
    await m.refresh();
    expect(m.canRollBack(m.entries[0])).toBe(false); // r3 is in force
    expect(m.canRollBack(m.entries[1])).toBe(false); // an invalid attempt
    expect(m.canRollBack(m.entries[3])).toBe(true);

    const result = await m.rollback(1);
    expect(confirmed).toEqual([1]);
    expect(result?.revision).toBe(4);
    const post = sent.find(s => s.method === 'POST');
    expect(post && JSON.parse(post.body)).toEqual({ revision: 1 });
    expect(m.rollbackState).toEqual({
      busy: false,
      notice: 'Rolled back to r1: the config is now revision r4.',
      error: null
    });
    expect(m.entries[0]).toMatchObject({ revision: 4, source: 'rollback', actor: 'alice' });
    expect(m.currentRevision).toBe(4);
  });

  it('sends nothing when the user cancels', async () => {
    const { m, sent, confirmed } = model({ [LIST]: { status: 200, body: HISTORY } }, { confirm: false });
    await m.refresh();
    expect(await m.rollback(1)).toBeNull();
    expect(confirmed).toEqual([1]);
    expect(sent.filter(s => s.method === 'POST')).toEqual([]);
    expect(m.rollbackState).toEqual({ busy: false, notice: null, error: null });
  });

  it('says "nothing changed" when the content is already in force', async () => {
    const { m } = model({
      [LIST]: { status: 200, body: HISTORY },
      'POST tenants/acme/rollback': {
        status: 200,
        body: { revision: 3, checksum: 'sha256:3', rolled_back_to: 2, changed: false }
      }
    });
    await m.refresh();
    await m.rollback(2);
    expect(m.rollbackState.notice).toBe("r2's content is already in force: nothing was changed.");
  });

  it('shows a refused rollback (read-only server) and a network failure, never silently', async () => {
    const { m } = model({
      [LIST]: { status: 200, body: HISTORY },
      'POST tenants/acme/rollback': n =>
        n === 1 ? { status: 403, body: { message: 'hotconf is read-only (read_only=True)' } } : 'network'
    });
    await m.refresh();
    await m.rollback(1);
    expect(m.rollbackState.error).toBe(
      'Cannot roll back: not allowed — the server is read-only or you lack write permission ' +
        '(403: hotconf is read-only (read_only=True)).'
    );
    await m.rollback(1);
    expect(m.rollbackState.error).toMatch(/^Cannot roll back: the server cannot be reached/);
    expect(m.rollbackState.busy).toBe(false);
  });

  it('shows history off (503) and no permission (403) when loading', async () => {
    const off = model({ [LIST]: { status: 503, body: { message: 'history is off' } } });
    await off.m.refresh();
    expect(off.m.error).toBe(
      'Cannot read the history: history is off or unavailable on this server (503: history is off).'
    );
    expect(off.m.entries).toEqual([]);
    const denied = model({ [LIST]: { status: 403, body: { message: 'Forbidden' } } });
    await denied.m.refresh();
    expect(denied.m.error).toBe('Cannot read the history: not allowed (403: Forbidden).');
  });

  it('pages back with before=<oldest revision shown>', async () => {
    const full = { ...HISTORY, entries: Array.from({ length: 50 }, (_, i) => entry(60 - i)) };
    const { m, sent } = model({
      [LIST]: { status: 200, body: full },
      'GET tenants/acme/history?limit=50&before=11': {
        status: 200,
        body: { ...HISTORY, entries: [entry(10), entry(9)] }
      }
    });
    await m.refresh();
    expect(m.hasMore).toBe(true);
    await m.loadOlder();
    expect(sent[sent.length - 1].path).toBe('tenants/acme/history?limit=50&before=11');
    expect(m.entries).toHaveLength(52);
    expect(m.entries[51].revision).toBe(9);
    expect(m.hasMore).toBe(false);
  });

  it("reloads on the socket's news of its tenant only, and the live revision is in force", async () => {
    const { m, messages, sent } = model({ [LIST]: { status: 200, body: HISTORY } }, { current: 2 });
    await m.refresh();
    expect(m.currentRevision).toBe(2);
    expect(m.canRollBack(m.entries[0])).toBe(true); // r3 is not what the socket says is live
    const frame = (tenant: string) =>
      decode(
        JSON.stringify({
          ConfigChanged: { tenant_id: tenant, change_type: 'modified', revision: 4, source: 'rollback' }
        })
      ) as Message;
    const before = sent.length;
    messages.emit(frame('globex'));
    messages.emit(decode('"Ping"') as Message);
    expect(sent).toHaveLength(before);
    messages.emit(frame('acme'));
    await expect.poll(() => sent.length).toBe(before + 1);
    m.dispose();
    messages.emit(frame('acme'));
    expect(sent).toHaveLength(before + 1);
  });
});
