/**
 * The wire protocol (protocol=2, docs/protocol.md), as the browser sees it.
 *
 * Pure: no DOM, no JupyterLab, so the model's reducers can be unit-tested in node.
 */

/** Where a config problem is; `file` is relative to the config dir. */
export interface IConfigError {
  file: string;
  line: number | null;
  column: number | null;
  pointer: string | null;
  message: string;
}

export interface ISnapshot {
  tenant_id: string;
  revision: number;
  checksum: string | null;
  epoch: string;
  exists: boolean;
  valid: boolean;
  error: IConfigError | null;
  config: Record<string, unknown> | null;
  mode?: string;
}

export interface IConfigChanged {
  tenant_id: string;
  change_type: 'created' | 'modified' | 'deleted';
  revision: number;
  epoch?: string;
  checksum?: string | null;
  changed_paths?: string[];
  timestamp?: string;
  config?: Record<string, unknown> | null;
  /** `watcher | startup | api | rollback` (docs/history.md). */
  source?: string;
  /** The user behind an `api`/`rollback` change, when known. */
  actor?: string | null;
}

export interface IConfigInvalid extends IConfigError {
  tenant_id: string;
}

export interface IConfigValid {
  tenant_id: string;
  revision: number;
  checksum: string | null;
}

/** A decoded frame; unknown messages decode to `null` and are ignored (docs/protocol.md). */
export type Message =
  | { kind: 'Snapshot'; body: ISnapshot }
  | { kind: 'ConfigChanged'; body: IConfigChanged }
  | { kind: 'ConfigInvalid'; body: IConfigInvalid }
  | { kind: 'ConfigValid'; body: IConfigValid }
  | { kind: 'Ping' }
  | { kind: 'Pong' };

const BODY_KINDS = ['Snapshot', 'ConfigChanged', 'ConfigInvalid', 'ConfigValid'] as const;

/**
 * Close codes the server uses under protocol=2 (refusals cannot be read from a handshake):
 * docs/protocol.md, "Close codes". The only place in this package that spells them as numbers.
 */
export enum CloseCode {
  Normal = 1000,
  Policy = 1008,
  TooBig = 1009,
  BadTenant = 4400,
  TokenExpired = 4401,
  Forbidden = 4403,
  HeartbeatTimeout = 4408,
  SlowConsumer = 4413,
  TooMany = 4429
}

export const PONG = '"Pong"';

/**
 * Parse one text frame. Throws on a frame that is not JSON; returns `null` for a message
 * this client does not know, so a newer server never breaks an older client.
 */
export function decode(frame: string): Message | null {
  const data: unknown = JSON.parse(frame);
  if (data === 'Ping' || data === 'Pong') {
    return { kind: data };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return null;
  }
  const [key] = Object.keys(data);
  const body = (data as Record<string, unknown>)[key];
  if (!(BODY_KINDS as readonly string[]).includes(key)) {
    return null;
  }
  if (typeof body !== 'object' || body === null || typeof (body as any).tenant_id !== 'string') {
    return null;
  }
  return { kind: key, body } as Message;
}

/** The `tenant_id` query parameters: one per followed tenant, `*` when none is given. */
export function socketQuery(tenants: readonly string[]): string {
  const ids = tenants.length ? tenants : ['*'];
  const params = ids.map(t => `tenant_id=${encodeURIComponent(t)}`);
  return ['protocol=2', ...params].join('&');
}

/** "private/acme.json:3: message" — how an error is named to a person. */
export function describeError(error: IConfigError): string {
  let where = error.file;
  if (error.line !== null && error.line !== undefined) {
    where += `:${error.line}`;
  }
  const at = error.pointer ? ` (at ${error.pointer})` : '';
  return `${where}: ${error.message}${at}`;
}
