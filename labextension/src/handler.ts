/**
 * One REST helper for `{base_url}hotconf/api/…`, with Jupyter's auth (token header, XSRF).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** An HTTP answer other than 2xx; `status` lets callers tell 404 (missing) from 403. */
export class HotConfAPIError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The server's own words (its JSON `message`/`reason`, or its text), for a person. */
    readonly reason: string = ''
  ) {
    super(message);
  }
}

export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'hotconf', 'api', endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  if (!response.ok) {
    let reason = text;
    try {
      const body = JSON.parse(text);
      reason = String(body.message ?? body.reason ?? text);
    } catch {
      // not JSON: keep the text
    }
    const method = (init.method ?? 'GET').toUpperCase();
    throw new HotConfAPIError(
      response.status,
      `${method} ${endPoint}: ${response.status} ${reason}`,
      reason
    );
  }
  return (text ? JSON.parse(text) : null) as T;
}

/** `GET hotconf/api/info` (docs/server.md); unknown extra fields are kept. */
export interface IInfo {
  version?: string;
  mode?: string;
  watcher?: string;
  config_dir_present?: boolean;
  /** The config dir relative to the server root, when the server says so. */
  config_dir_relative?: string | null;
  [key: string]: unknown;
}
