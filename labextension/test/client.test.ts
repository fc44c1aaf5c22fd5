import { describe, expect, it } from 'vitest';

import { HotConfClient, ISocket, ITimers } from '../src/client';
import { Message } from '../src/protocol';
import { ReconnectPolicy } from '../src/reconnect';
import { LinkStatus } from '../src/state';

/** A scripted socket: the test plays the server. */
class FakeSocket implements ISocket {
  constructor(readonly url: string) {}
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: string[] = [];
  closed: number | null = null;
  send(data: string): void {
    this.sent.push(data);
  }
  close(code = 1000): void {
    this.closed = code;
  }
  open(): void {
    this.onopen?.({});
  }
  frame(data: string): void {
    this.onmessage?.({ data });
  }
  drop(code: number, reason = ''): void {
    this.onclose?.({ code, reason });
  }
}

/** A manual clock: timers fire only when the test advances time. */
class FakeTimers implements ITimers {
  now = 0;
  private _next = 1;
  private _pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this._next++;
    this._pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this._pending.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this._pending.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) {
        break;
      }
      this._pending.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = end;
  }
}

function setup(random = () => 0.5, maxAttempts = 5) {
  const sockets: FakeSocket[] = [];
  const timers = new FakeTimers();
  const statuses: LinkStatus[] = [];
  const messages: Message[] = [];
  const client = new HotConfClient({
    url: () => 'ws://h/hotconf/ws?protocol=2&tenant_id=*',
    policy: new ReconnectPolicy({ random, maxAttempts }),
    createSocket: url => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    timers
  });
  client.statusChanged.connect((_, s) => statuses.push(s));
  client.messageReceived.connect((_, m) => messages.push(m));
  const last = () => sockets[sockets.length - 1];
  return { client, sockets, timers, statuses, messages, last };
}

describe('HotConfClient', () => {
  it('connects, answers Ping with Pong, and passes messages on', () => {
    const { client, last, statuses, messages } = setup();
    client.connect();
    last().open();
    last().frame('"Ping"');
    last().frame('{"ConfigValid":{"tenant_id":"acme","revision":1,"checksum":null}}');
    last().frame('{"Unknown":{}}');
    expect(statuses).toEqual(['connecting', 'connected']);
    expect(last().sent).toEqual(['"Pong"']);
    expect(messages.map(m => m.kind)).toEqual(['ConfigValid']);
  });

  it('reconnects after a jittered, doubling delay', () => {
    const { client, sockets, last, timers, statuses } = setup(() => 0.5);
    client.connect();
    last().open();
    last().drop(1006);
    expect(client.status).toBe('reconnecting');
    expect(client.nextRetryMs).toBe(500);
    timers.advance(499);
    expect(sockets).toHaveLength(1);
    timers.advance(1);
    expect(sockets).toHaveLength(2);
    last().drop(1006); // refused again: the cap doubles
    expect(client.nextRetryMs).toBe(1000);
    timers.advance(1000);
    last().open();
    expect(statuses.slice(-2)).toEqual(['reconnecting', 'connected']);
  });

  it('reports error after maxAttempts failures but keeps retrying every 30 s', () => {
    const { client, sockets, last, timers } = setup(() => 0.5, 3);
    client.connect();
    for (let i = 0; i < 3; i++) {
      last().drop(1006);
      expect(client.status).toBe('reconnecting');
      timers.advance(client.nextRetryMs!);
    }
    last().drop(1006); // the drop and 3 reconnect attempts failed: error, on the slow beat
    expect(client.status).toBe('error');
    expect(client.nextRetryMs).toBe(30000);
    const before = sockets.length;
    timers.advance(30000);
    expect(sockets.length).toBe(before + 1);
    last().open();
    expect(client.status).toBe('connected');
  });

  it('stops at once on 4403 and shows the reason', () => {
    const { client, sockets, last, timers } = setup();
    client.connect();
    last().open();
    last().drop(4403, 'tenant not allowed');
    expect(client.status).toBe('error');
    expect(client.lastError).toBe('tenant not allowed (4403)');
    timers.advance(120000);
    expect(sockets).toHaveLength(1);
  });

  it('waits the longest delay on 4429 and reconnects on 4408 and 4413', () => {
    const { client, last } = setup(() => 0);
    client.connect();
    last().drop(4429, 'too many');
    expect(client.nextRetryMs).toBe(30000);
    for (const code of [4408, 4413]) {
      client.reconnect();
      last().open();
      last().drop(code);
      expect(client.status).toBe('reconnecting');
      expect(client.nextRetryMs).toBe(0);
    }
  });

  it('resets the backoff after 60 s connected', () => {
    const { client, last, timers } = setup(() => 0.5);
    client.connect();
    last().drop(1006);
    timers.advance(500);
    last().drop(1006);
    timers.advance(1000);
    last().open();
    for (let i = 0; i < 3; i++) {
      timers.advance(20000);
      last().frame('"Ping"'); // the server's heartbeat keeps the link alive
    }
    last().drop(1006);
    expect(client.nextRetryMs).toBe(500);
  });

  it('treats silence as a dead link', () => {
    const { client, sockets, last, timers } = setup(() => 0);
    client.connect();
    last().open();
    timers.advance(29999);
    last().frame('"Ping"'); // life: the silence timer starts again
    timers.advance(29999);
    expect(client.status).toBe('connected');
    timers.advance(1);
    expect(client.status).toBe('reconnecting');
    expect(sockets[0].closed).not.toBeNull();
    timers.advance(0);
    expect(sockets).toHaveLength(2);
  });

  it('stop() closes for good; reconnect() forgets failures', () => {
    const { client, sockets, last, timers } = setup(() => 0.5);
    client.connect();
    last().drop(1006);
    client.stop();
    expect(client.status).toBe('disconnected');
    timers.advance(60000);
    expect(sockets).toHaveLength(1);
    client.reconnect();
    expect(client.policy.attempts).toBe(0);
    expect(sockets).toHaveLength(2);
    expect(client.status).toBe('connecting');
  });

  it('ignores a frame that is not JSON', () => {
    const { client, last, messages } = setup();
    client.connect();
    last().open();
    last().frame('not json');
    expect(messages).toEqual([]);
    expect(client.status).toBe('connected');
  });
});
