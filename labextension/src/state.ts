/**
 * The state of the followed tenants and of the link, with pure reducers for each wire message
 * and the aggregate the status item shows. Pure, so it is unit-tested without a browser.
 */
import {
  IConfigChanged,
  IConfigError,
  IConfigInvalid,
  IConfigValid,
  ISnapshot,
  Message
} from './protocol';

/**
 * The link: `missing` = the server extension answers 404 (not installed or not enabled);
 * `disabled` = the `enabled` setting is off; `error` = refused, or `maxReconnectAttempts`
 * failures in a row (retries go on slowly).
 */
export type LinkStatus =
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'disconnected'
  | 'error'
  | 'missing'
  | 'disabled';

/** What the browser knows of one tenant. */
export interface ITenantState {
  tenantId: string;
  revision: number;
  checksum: string | null;
  /** The server's run: revisions restart when it changes. */
  epoch: string | null;
  exists: boolean;
  valid: boolean;
  error: IConfigError | null;
  config: Record<string, unknown> | null;
  /** When the last change arrived (ms since epoch), `null` before the first one. */
  lastChange: number | null;
}

export type Tenants = ReadonlyMap<string, ITenantState>;

/** Severity for colour and for show-only-on-error. */
export type Level = 'ok' | 'busy' | 'warn' | 'error' | 'off';

export interface IAggregate {
  level: Level;
  link: LinkStatus;
  /** Tenants whose current file is invalid (last good config still in force). */
  invalid: string[];
  /** The most recently changed tenant (or the highest revision before any change). */
  latest: ITenantState | null;
}

function blank(tenantId: string): ITenantState {
  return {
    tenantId,
    revision: 0,
    checksum: null,
    epoch: null,
    exists: false,
    valid: true,
    error: null,
    config: null,
    lastChange: null
  };
}

function withTenant(
  tenants: Tenants,
  tenantId: string,
  update: (prev: ITenantState) => ITenantState
): Tenants {
  const next = new Map(tenants);
  next.set(tenantId, update(tenants.get(tenantId) ?? blank(tenantId)));
  return next;
}

/** A Snapshot replaces what we knew of the tenant (sent on every connect: the resync). */
export function onSnapshot(tenants: Tenants, s: ISnapshot, now: number): Tenants {
  const known = tenants.has(s.tenant_id);
  return withTenant(tenants, s.tenant_id, prev => ({
    tenantId: s.tenant_id,
    revision: s.revision,
    checksum: s.checksum,
    epoch: s.epoch,
    exists: s.exists,
    valid: s.valid,
    error: s.valid ? null : s.error,
    config: s.config,
    // A resync whose content moved while we were away counts as a change now.
    lastChange: known && prev.checksum !== s.checksum ? now : prev.lastChange
  }));
}

/** Same server run and not newer: a duplicate or stale frame, which never rolls back. */
function isStale(prev: ITenantState, revision: number, epoch: string | undefined): boolean {
  const sameRun = !epoch || prev.epoch === null || epoch === prev.epoch;
  return sameRun && prev.revision > 0 && revision <= prev.revision;
}

/** A valid change: new revision, error cleared (a valid change after an invalid one). */
export function onChanged(tenants: Tenants, c: IConfigChanged, now: number): Tenants {
  return withTenant(tenants, c.tenant_id, prev => {
    if (isStale(prev, c.revision, c.epoch)) {
      return prev;
    }
    return {
      ...prev,
      revision: c.revision,
      epoch: c.epoch ?? prev.epoch,
      checksum: c.checksum ?? prev.checksum,
      exists: c.change_type !== 'deleted',
      valid: true,
      error: null,
      config: c.config !== undefined ? c.config : c.change_type === 'deleted' ? null : prev.config,
      lastChange: now
    };
  });
}

/** An invalid edit: the last good config stays, the error is remembered. */
export function onInvalid(tenants: Tenants, m: IConfigInvalid): Tenants {
  const { tenant_id, ...error } = m;
  return withTenant(tenants, tenant_id, prev => ({ ...prev, exists: true, valid: false, error }));
}

/** The edit was reverted: valid again with the last good content. */
export function onValid(tenants: Tenants, m: IConfigValid): Tenants {
  return withTenant(tenants, m.tenant_id, prev => ({
    ...prev,
    revision: Math.max(prev.revision, m.revision),
    checksum: m.checksum ?? prev.checksum,
    valid: true,
    error: null
  }));
}

/** Apply one decoded message; Ping/Pong and unknown messages leave the state as is. */
export function reduce(tenants: Tenants, message: Message, now: number): Tenants {
  switch (message.kind) {
    case 'Snapshot':
      return onSnapshot(tenants, message.body, now);
    case 'ConfigChanged':
      return onChanged(tenants, message.body, now);
    case 'ConfigInvalid':
      return onInvalid(tenants, message.body);
    case 'ConfigValid':
      return onValid(tenants, message.body);
    default:
      return tenants;
  }
}

function linkLevel(link: LinkStatus): Level {
  switch (link) {
    case 'connected':
      return 'ok';
    case 'connecting':
    case 'reconnecting':
      return 'busy';
    case 'disconnected':
      return 'warn';
    case 'error':
    case 'missing':
      return 'error';
    case 'disabled':
      return 'off';
  }
}

/** One line of truth for the status item: the worst of the link and the configs. */
export function aggregate(tenants: Tenants, link: LinkStatus): IAggregate {
  const all = [...tenants.values()];
  const invalid = all.filter(t => !t.valid).map(t => t.tenantId).sort();
  let latest: ITenantState | null = null;
  for (const t of all) {
    if (
      latest === null ||
      (t.lastChange ?? -1) > (latest.lastChange ?? -1) ||
      ((t.lastChange ?? -1) === (latest.lastChange ?? -1) && t.revision > latest.revision)
    ) {
      latest = t;
    }
  }
  let level = linkLevel(link);
  if (invalid.length && (level === 'ok' || level === 'busy')) {
    level = 'error';
  }
  return { level, link, invalid, latest };
}

/** "just now", "5 s ago", "3 min ago", "2 h ago" — short enough for a status bar. */
export function ago(then: number | null, now: number): string {
  if (then === null) {
    return 'no change yet';
  }
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 1) {
    return 'just now';
  }
  if (s < 60) {
    return `${s} s ago`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ago`;
  }
  return `${Math.floor(s / 3600)} h ago`;
}

/** The status item's text (or tooltip in compact mode). */
export function summary(agg: IAggregate, now: number): string {
  const parts = [`hotconf: ${agg.link}`];
  if (agg.link === 'missing') {
    return 'hotconf: server extension missing';
  }
  if (agg.invalid.length) {
    parts.push(`invalid: ${agg.invalid.join(', ')}`);
  }
  if (agg.latest) {
    parts.push(`${agg.latest.tenantId} r${agg.latest.revision}`);
    parts.push(ago(agg.latest.lastChange, now));
  }
  return parts.join(' · ');
}
