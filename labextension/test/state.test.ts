import { describe, expect, it } from 'vitest';

import { decode, describeError, ISnapshot, socketQuery } from '../src/protocol';
import { aggregate, ago, ITenantState, reduce, summary, Tenants } from '../src/state';

const snap = (over: Partial<ISnapshot> = {}): ISnapshot => ({
  tenant_id: 'acme',
  revision: 3,
  checksum: 'sha256:a',
  epoch: 'e1',
  exists: true,
  valid: true,
  error: null,
  config: { pricing: { discount: 0.1 } },
  mode: 'dev',
  ...over
});

function feed(frames: string[], start: Tenants = new Map(), now = 1000): Tenants {
  let tenants = start;
  for (const frame of frames) {
    const message = decode(frame);
    if (message) {
      tenants = reduce(tenants, message, now);
    }
  }
  return tenants;
}

const acme = (t: Tenants): ITenantState => t.get('acme')!;

describe('decode', () => {
  it('reads externally tagged messages and Ping', () => {
    expect(decode('"Ping"')).toEqual({ kind: 'Ping' });
    const m = decode('{"ConfigValid":{"tenant_id":"acme","revision":2,"checksum":null}}');
    expect(m?.kind).toBe('ConfigValid');
  });

  it('ignores messages it does not know', () => {
    expect(decode('{"Future":{"tenant_id":"acme"}}')).toBeNull();
    expect(decode('[1,2]')).toBeNull();
    expect(decode('{"ConfigChanged":{"no_tenant":1}}')).toBeNull();
  });

  it('throws on a frame that is not JSON', () => {
    expect(() => decode('{nope')).toThrow();
  });
});

describe('protocol helpers', () => {
  it('follows every tenant by default and repeats tenant_id', () => {
    expect(socketQuery([])).toBe('protocol=2&tenant_id=*');
    expect(socketQuery(['acme', 'globex'])).toBe('protocol=2&tenant_id=acme&tenant_id=globex');
  });

  it('names an error as file:line: message', () => {
    const error = { file: 'private/acme.json', line: 3, column: 5, pointer: null, message: 'x' };
    expect(describeError(error)).toBe('private/acme.json:3: x');
    expect(describeError({ ...error, line: null, pointer: '/a' })).toBe(
      'private/acme.json: x (at /a)'
    );
  });
});

describe('reducers', () => {
  it('Snapshot seeds a tenant without counting as a change', () => {
    const t = feed([JSON.stringify({ Snapshot: snap() })]);
    expect(acme(t)).toMatchObject({ revision: 3, valid: true, lastChange: null, epoch: 'e1' });
  });

  it('ConfigChanged moves the revision and the config, and stamps the change time', () => {
    const t = feed([
      JSON.stringify({ Snapshot: snap() }),
      JSON.stringify({
        ConfigChanged: {
          tenant_id: 'acme',
          change_type: 'modified',
          revision: 4,
          epoch: 'e1',
          checksum: 'sha256:b',
          config: { pricing: { discount: 0.3 } }
        }
      })
    ]);
    expect(acme(t)).toMatchObject({ revision: 4, checksum: 'sha256:b', lastChange: 1000 });
    expect(acme(t).config).toEqual({ pricing: { discount: 0.3 } });
  });

  it('a stale or duplicate revision of the same epoch never rolls back', () => {
    const base = feed([JSON.stringify({ Snapshot: snap({ revision: 5 }) })]);
    const stale = { tenant_id: 'acme', change_type: 'modified', revision: 4, epoch: 'e1' };
    expect(acme(feed([JSON.stringify({ ConfigChanged: stale })], base)).revision).toBe(5);
    const restarted = { ...stale, revision: 1, epoch: 'e2' };
    expect(acme(feed([JSON.stringify({ ConfigChanged: restarted })], base)).revision).toBe(1);
  });

  it('ConfigInvalid keeps the last good config and records the error', () => {
    const error = { file: 'private/acme.json', line: 3, column: 1, pointer: null, message: 'bad' };
    const t = feed([
      JSON.stringify({ Snapshot: snap() }),
      JSON.stringify({ ConfigInvalid: { tenant_id: 'acme', ...error } })
    ]);
    expect(acme(t)).toMatchObject({ valid: false, error, revision: 3 });
    expect(acme(t).config).toEqual(snap().config);
  });

  it('ConfigValid clears the error; a later ConfigChanged does too', () => {
    const invalid = JSON.stringify({
      ConfigInvalid: { tenant_id: 'acme', file: 'f', line: null, column: null, pointer: null, message: 'm' }
    });
    const reverted = feed([
      JSON.stringify({ Snapshot: snap() }),
      invalid,
      JSON.stringify({ ConfigValid: { tenant_id: 'acme', revision: 3, checksum: 'sha256:a' } })
    ]);
    expect(acme(reverted)).toMatchObject({ valid: true, error: null, revision: 3 });
    const fixed = feed([
      JSON.stringify({ Snapshot: snap() }),
      invalid,
      JSON.stringify({ ConfigChanged: { tenant_id: 'acme', change_type: 'modified', revision: 4 } })
    ]);
    expect(acme(fixed)).toMatchObject({ valid: true, error: null, revision: 4 });
  });

  it('deleted empties the config', () => {
    const t = feed([
      JSON.stringify({ Snapshot: snap() }),
      JSON.stringify({ ConfigChanged: { tenant_id: 'acme', change_type: 'deleted', revision: 4 } })
    ]);
    expect(acme(t)).toMatchObject({ exists: false, config: null });
  });

  it('an invalid Snapshot (connect during a bad edit) shows the error at once', () => {
    const error = { file: 'private/acme.json', line: 1, column: 2, pointer: null, message: 'm' };
    const t = feed([JSON.stringify({ Snapshot: snap({ valid: false, error }) })]);
    expect(acme(t)).toMatchObject({ valid: false, error });
  });

  it('a resync whose checksum moved counts as a change', () => {
    const first = feed([JSON.stringify({ Snapshot: snap() })], new Map(), 10);
    const again = feed([JSON.stringify({ Snapshot: snap({ checksum: 'sha256:z' }) })], first, 20);
    expect(acme(again).lastChange).toBe(20);
    const same = feed([JSON.stringify({ Snapshot: snap() })], first, 30);
    expect(acme(same).lastChange).toBeNull();
  });
});

describe('aggregate', () => {
  const two = feed([
    JSON.stringify({ Snapshot: snap() }),
    JSON.stringify({ Snapshot: snap({ tenant_id: 'globex', revision: 9 }) })
  ]);

  it('is ok when connected and all valid; latest is the highest revision before changes', () => {
    const agg = aggregate(two, 'connected');
    expect(agg).toMatchObject({ level: 'ok', invalid: [] });
    expect(agg.latest?.tenantId).toBe('globex');
  });

  it('the most recent change wins over a higher revision', () => {
    const t = feed(
      [JSON.stringify({ ConfigChanged: { tenant_id: 'acme', change_type: 'modified', revision: 4 } })],
      two
    );
    expect(aggregate(t, 'connected').latest?.tenantId).toBe('acme');
  });

  it('is error when any tenant is invalid, naming it', () => {
    const t = feed(
      [JSON.stringify({ ConfigInvalid: { tenant_id: 'globex', file: 'f', line: 1, column: 1, pointer: null, message: 'm' } })],
      two
    );
    const agg = aggregate(t, 'connected');
    expect(agg).toMatchObject({ level: 'error', invalid: ['globex'] });
    expect(summary(agg, 0)).toContain('invalid: globex');
  });

  it('maps link states to levels', () => {
    expect(aggregate(two, 'reconnecting').level).toBe('busy');
    expect(aggregate(two, 'disconnected').level).toBe('warn');
    expect(aggregate(two, 'error').level).toBe('error');
    expect(aggregate(new Map(), 'missing').level).toBe('error');
    expect(aggregate(two, 'disabled').level).toBe('off');
  });

  it('has a distinct text for a missing server extension', () => {
    expect(summary(aggregate(new Map(), 'missing'), 0)).toBe('hotconf: server extension missing');
  });

  it('summarises link, revision and age', () => {
    const t = feed(
      [JSON.stringify({ ConfigChanged: { tenant_id: 'acme', change_type: 'modified', revision: 4 } })],
      two,
      1000
    );
    expect(summary(aggregate(t, 'connected'), 3000)).toBe('hotconf: connected · acme r4 · 2 s ago');
  });

  it('formats ages', () => {
    expect(ago(null, 0)).toBe('no change yet');
    expect(ago(0, 400)).toBe('just now');
    expect(ago(0, 125000)).toBe('2 min ago');
    expect(ago(0, 7300000)).toBe('2 h ago');
  });
});
