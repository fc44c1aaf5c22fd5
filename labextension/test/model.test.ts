// @vitest-environment jsdom
// The model's base class (VDomModel) needs a DOM; vitest.config.mts loads only that part of
// @jupyterlab/ui-components.
import './dom-shim';

import { ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';
import { describe, expect, it } from 'vitest';

import { IClient, IClientOptions } from '../src/client';
import { HotConfModel, IHotConfSettings } from '../src/model';
import { decode, Message } from '../src/protocol';
import { ReconnectPolicy } from '../src/reconnect';
import { LinkStatus } from '../src/state';
import { IHotConf } from '../src/tokens';

/** A scripted link: the test plays the socket and the server behind it. */
class FakeClient implements IClient {
  constructor(private readonly _options: IClientOptions) {
    this.policy = _options.policy ?? new ReconnectPolicy();
  }
  readonly policy: ReconnectPolicy;
  status: LinkStatus = 'disconnected';
  lastError: string | null = null;
  /** The URL of every connection the model asked for, in order. */
  readonly urls: string[] = [];
  stops = 0;
  readonly statusChanged: Signal<IClient, LinkStatus> = new Signal<IClient, LinkStatus>(this);
  readonly messageReceived: Signal<IClient, Message> = new Signal<IClient, Message>(this);

  reconnect(): void {
    this.urls.push(this._options.url());
    this.set('connecting');
    const waiting = this._waiting;
    this._waiting = [];
    waiting.forEach(resolve => resolve(this.urls[this.urls.length - 1]));
  }
  stop(): void {
    this.stops += 1;
    this.set('disconnected');
  }
  dispose(): void {
    Signal.clearData(this);
  }

  /** Resolves with the URL of the next connection (the test's timeout is the deadline). */
  nextConnect(): Promise<string> {
    return new Promise(resolve => this._waiting.push(resolve));
  }
  set(status: LinkStatus, lastError: string | null = null): void {
    this.status = status;
    this.lastError = lastError;
    this.statusChanged.emit(status);
  }
  frame(text: string): void {
    const message = decode(text);
    if (message) {
      this.messageReceived.emit(message);
    }
  }

  private _waiting: ((url: string) => void)[] = [];
}

type Answer = { status: number; body: unknown };

function snapshot(tenant: string, revision: number, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    Snapshot: {
      tenant_id: tenant,
      revision,
      checksum: `sha256:${tenant}${revision}`,
      epoch: 'e1',
      exists: true,
      valid: true,
      error: null,
      config: { rev: revision },
      ...extra
    }
  });
}

function changed(tenant: string, revision: number) {
  return JSON.stringify({
    ConfigChanged: {
      tenant_id: tenant,
      change_type: 'modified',
      revision,
      epoch: 'e1',
      checksum: `sha256:${tenant}${revision}`,
      changed_paths: ['/rev'],
      config: { rev: revision }
    }
  });
}

function invalid(tenant: string, line: number) {
  return JSON.stringify({
    ConfigInvalid: {
      tenant_id: tenant,
      file: `private/${tenant}.json`,
      line,
      column: 1,
      pointer: null,
      message: 'Expecting value'
    }
  });
}

/**
 * A model with a fake client and a fake `fetch` behind JupyterLab's real ServerConnection:
 * `answers` maps a path under `hotconf/api/` to what the server says.
 */
function setup(settings: Partial<IHotConfSettings> = {}, answers: Record<string, Answer> = {}) {
  let now = 1000;
  const requests: string[] = [];
  const fetch = async (input: RequestInfo | URL): Promise<Response> => {
    // Without ServerConnection's cache-busting query.
    const url = (input instanceof Request ? input.url : String(input)).split('?')[0];
    requests.push(url);
    const path = url.split('/hotconf/api/')[1] ?? '';
    const answer = answers[path] ?? { status: 200, body: { mode: 'dev' } };
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  };
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: 'http://lab/base/',
    wsUrl: 'ws://lab/base/',
    token: 'secret',
    appendToken: true,
    fetch
  });
  const clients: FakeClient[] = [];
  const model = new HotConfModel({
    serverSettings,
    settings,
    createClient: options => {
      const client = new FakeClient(options);
      clients.push(client);
      return client;
    },
    now: () => now
  });
  const statuses: IHotConf.IStatus[] = [];
  const changes: IHotConf.IConfigChange[] = [];
  model.statusChanged.connect((_, s) => statuses.push(s));
  model.configChanged.connect((_, c) => changes.push(c));
  const tick = (ms: number) => {
    now += ms;
  };
  return { model, client: clients[0], clients, requests, statuses, changes, tick };
}

const WS = 'ws://lab/base/hotconf/ws?protocol=2';

describe('HotConfModel', () => {
  it('takes its link from the options and asks for the URL at each connect', async () => {
    const { model, clients, requests } = setup();
    expect(clients).toHaveLength(1);
    await model.start();
    expect(requests).toEqual(['http://lab/base/hotconf/api/info']);
    expect(clients[0].urls).toEqual([`${WS}&tenant_id=*&include=config&token=secret`]);
    expect(model.link).toBe('connecting');
    expect(model.mode).toBe('dev');
  });

  it('aggregates the tenants: the worst of link and configs, the latest change', async () => {
    const { model, client, statuses, tick } = setup();
    await model.start();
    client.set('connected');
    client.frame(snapshot('acme', 3));
    client.frame(snapshot('beta', 1));
    expect(model.status).toMatchObject({ level: 'ok', link: 'connected', invalid: [] });
    expect(model.status.latest?.tenantId).toBe('acme'); // no change yet: the highest revision

    tick(1000);
    client.frame(invalid('beta', 3));
    expect(model.status).toMatchObject({ level: 'error', invalid: ['beta'] });
    expect(model.status.latest).toMatchObject({ tenantId: 'acme', revision: 3 });

    tick(1000);
    client.frame(changed('acme', 4));
    client.frame(invalid('gamma', 1));
    expect(model.status).toMatchObject({ level: 'error', invalid: ['beta', 'gamma'] });
    expect(model.status.latest).toMatchObject({ tenantId: 'acme', revision: 4, lastChange: 3000 });

    tick(1000);
    client.frame(changed('beta', 2)); // a valid edit clears beta's error
    const reverted = { ConfigValid: { tenant_id: 'gamma', revision: 0, checksum: null } };
    client.frame(JSON.stringify(reverted));
    expect(model.status).toMatchObject({ level: 'ok', invalid: [] });
    expect(model.status.latest).toMatchObject({ tenantId: 'beta', revision: 2, lastChange: 4000 });
    expect(statuses[statuses.length - 1]).toEqual(model.status);
  });

  it('shows the link through: an invalid config outranks a busy link, not a lost one', async () => {
    const { model, client } = setup();
    await model.start();
    client.set('connected');
    client.frame(snapshot('acme', 1));
    client.set('reconnecting', 'closed (1006)');
    expect(model.status).toMatchObject({ level: 'busy', lastError: 'closed (1006)' });
    client.frame(invalid('acme', 2));
    expect(model.status.level).toBe('error');
    client.set('disconnected');
    expect(model.status).toMatchObject({ level: 'warn', link: 'disconnected' });
  });

  it('reports config changes and moved resyncs, not the first Snapshot', async () => {
    const { model, client, changes } = setup();
    await model.start();
    client.set('connected');
    client.frame(snapshot('acme', 1));
    expect(changes).toEqual([]);
    client.frame(changed('acme', 2));
    client.frame(changed('acme', 2)); // a duplicate frame changes nothing
    client.frame(snapshot('acme', 2)); // a resync that did not move
    client.frame(snapshot('acme', 5)); // moved while we were away
    expect(changes).toEqual([
      {
        tenantId: 'acme',
        changeType: 'modified',
        revision: 2,
        config: { rev: 2 },
        changedPaths: ['/rev']
      },
      { tenantId: 'acme', changeType: 'resync', revision: 5, config: { rev: 5 }, changedPaths: [] }
    ]);
  });

  it('reconnects when tenants, wsUrl or enabled change, and only then', async () => {
    const { model, client, requests } = setup();
    await model.start();
    client.set('connected');
    client.frame(snapshot('acme', 1));

    model.configure({ compact: true, position: 'right', notifyOnChange: true });
    model.configure({ reconnectDelay: 200, maxReconnectDelay: 4000, maxReconnectAttempts: 2 });
    expect(client.urls).toHaveLength(1);
    expect(client.policy.options).toMatchObject({ base: 200, max: 4000, maxAttempts: 2 });

    let next = client.nextConnect();
    model.configure({ tenants: ['acme', 'beta'] });
    expect(model.tenants.size).toBe(0); // what we followed before no longer counts
    expect(await next).toBe(`${WS}&tenant_id=acme&tenant_id=beta&include=config&token=secret`);

    model.configure({ enabled: false });
    expect(client.stops).toBe(1);
    expect(model.link).toBe('disabled');
    expect(model.visible).toBe(false);

    next = client.nextConnect();
    model.configure({ enabled: true });
    await next;
    expect(client.urls).toHaveLength(3);

    const asked = requests.length;
    next = client.nextConnect();
    model.configure({ wsUrl: 'http://other:9000/hotconf/' });
    expect(await next).toBe(
      'ws://other:9000/hotconf/ws?protocol=2&tenant_id=acme&tenant_id=beta&include=config'
    );
    expect(requests).toHaveLength(asked); // a custom endpoint: the Jupyter server is not asked
  });

  it('does not connect on settings changed before start', () => {
    const { model, client } = setup();
    model.configure({ tenants: ['acme'] });
    expect(client.urls).toEqual([]);
    expect(model.link).toBe('disconnected');
  });

  it('shows "missing" on 404 from info and opens no socket', async () => {
    const { model, client } = setup({}, { info: { status: 404, body: { message: 'Not Found' } } });
    await model.start();
    expect(model.link).toBe('missing');
    expect(model.status.level).toBe('error');
    expect(client.urls).toEqual([]);
  });

  it('stops for good on 403 from info, with the reason', async () => {
    const { model, client } = setup({}, { info: { status: 403, body: { message: 'Forbidden' } } });
    await model.start();
    expect(model.link).toBe('error');
    expect(model.status.lastError).toBe('GET info: 403 Forbidden');
    expect(client.urls).toEqual([]);
    expect(client.stops).toBe(1);
  });

  it('hides in prod mode and, with showOnlyOnError, while all is well', async () => {
    const prod = setup({}, { info: { status: 200, body: { mode: 'prod' } } });
    await prod.model.start();
    prod.client.set('connected');
    expect(prod.model.visible).toBe(false);

    const { model, client } = setup({ showOnlyOnError: true });
    await model.start();
    client.set('connected');
    client.frame(snapshot('acme', 1));
    expect(model.visible).toBe(false);
    client.frame(invalid('acme', 2));
    expect(model.visible).toBe(true);
    client.frame(changed('acme', 2));
    expect(model.visible).toBe(false);
  });

  it('getConfig answers from the live cache when connected, else from the server', async () => {
    const { model, client, requests } = setup(
      {},
      {
        'tenants/acme': { status: 200, body: { config: { from: 'server' } } },
        'tenants/nobody': { status: 404, body: { message: 'no such tenant' } }
      }
    );
    await model.start();
    client.set('connected');
    client.frame(snapshot('acme', 1));
    expect(await model.getConfig('acme')).toEqual({ rev: 1 });
    expect(requests).toHaveLength(1); // info only

    client.set('reconnecting');
    expect(await model.getConfig('acme')).toEqual({ from: 'server' });
    expect(await model.getConfig('nobody')).toBeNull();
  });
});
