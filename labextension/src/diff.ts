/**
 * The history view's diff: an RFC 6902 patch read as "path: old → new" rows (docs/history.md).
 *
 * Pure, so it is unit-tested without a browser. The server sends the patch and the previous
 * revision's config; the old value of each op is read from that config with the earlier ops
 * already applied, since a patch's array indices refer to the document as the ops leave it.
 */

/** A JSON value as the server sends it. */
export type JSONValue = null | boolean | number | string | JSONValue[] | IJSONObject;
export interface IJSONObject {
  [key: string]: JSONValue;
}

/** One RFC 6902 operation. */
export interface IPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: JSONValue;
}

/** One changed path: `old` is absent for an addition, `new` for a removal. */
export interface IDiffRow {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  old?: JSONValue;
  new?: JSONValue;
}

/** `"/a/b~1c"` → `["a", "b/c"]`; `""` (the whole document) → `[]`. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') {
    return [];
  }
  if (!pointer.startsWith('/')) {
    throw new Error(`not a JSON pointer: ${JSON.stringify(pointer)}`);
  }
  return pointer
    .slice(1)
    .split('/')
    .map(part => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value at `pointer`, or `undefined` when there is none. */
export function lookup(doc: JSONValue | undefined, pointer: string): JSONValue | undefined {
  let node: JSONValue | undefined = doc;
  for (const key of parsePointer(pointer)) {
    if (Array.isArray(node)) {
      node = /^\d+$/.test(key) ? node[Number(key)] : undefined;
    } else if (node !== null && typeof node === 'object') {
      node = Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
    } else {
      return undefined;
    }
  }
  return node;
}

/**
 * The rows a patch makes against `before` (the previous revision's config; `null` = none):
 * one per op, in patch order; a `move` reads as its source removed and its target added.
 * Ops that do not apply (a stale `before`) still give a row, with the old value unknown.
 */
export function diffRows(before: IJSONObject | null, patch: readonly IPatchOp[]): IDiffRow[] {
  let doc: JSONValue = structuredClone(before ?? {});
  const rows: IDiffRow[] = [];
  for (const op of patch) {
    const old = lookup(doc, op.path);
    switch (op.op) {
      case 'add':
        rows.push(Private.row(op.path, old, op.value));
        doc = Private.put(doc, op.path, op.value ?? null, true);
        break;
      case 'replace':
        rows.push(Private.row(op.path, old, op.value));
        doc = Private.put(doc, op.path, op.value ?? null, false);
        break;
      case 'remove':
        rows.push(Private.row(op.path, old, undefined));
        doc = Private.remove(doc, op.path);
        break;
      case 'move':
      case 'copy': {
        const value = lookup(doc, op.from ?? '');
        if (op.op === 'move') {
          rows.push(Private.row(op.from ?? '', value, undefined));
          doc = Private.remove(doc, op.from ?? '');
        }
        rows.push(Private.row(op.path, lookup(doc, op.path), value));
        doc = Private.put(doc, op.path, value ?? null, true);
        break;
      }
      case 'test':
        break;
    }
  }
  return rows;
}

/** A value as one short line: JSON, strings quoted, so `"1"` and `1` read differently. */
export function formatValue(value: JSONValue | undefined): string {
  return value === undefined ? '—' : JSON.stringify(value);
}

namespace Private {
  export function row(path: string, old: JSONValue | undefined, value: JSONValue | undefined) {
    const kind: IDiffRow['kind'] =
      old === undefined ? 'added' : value === undefined ? 'removed' : 'changed';
    const result: IDiffRow = { path, kind };
    if (old !== undefined) {
      result.old = old;
    }
    if (value !== undefined) {
      result.new = value;
    }
    return result;
  }

  /** `doc` with `value` at `pointer` (inserted into an array when `insert`); unchanged if the
   * parent is missing. */
  export function put(doc: JSONValue, pointer: string, value: JSONValue, insert: boolean) {
    const keys = parsePointer(pointer);
    if (keys.length === 0) {
      return value;
    }
    const parent = lookup(doc, toPointer(keys.slice(0, -1)));
    const last = keys[keys.length - 1];
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      parent.splice(index, insert ? 0 : 1, value);
    } else if (parent !== null && typeof parent === 'object' && parent !== undefined) {
      parent[last] = value;
    }
    return doc;
  }

  export function remove(doc: JSONValue, pointer: string): JSONValue {
    const keys = parsePointer(pointer);
    if (keys.length === 0) {
      return {};
    }
    const parent = lookup(doc, toPointer(keys.slice(0, -1)));
    const last = keys[keys.length - 1];
    if (Array.isArray(parent)) {
      parent.splice(Number(last), 1);
    } else if (parent !== null && typeof parent === 'object' && parent !== undefined) {
      delete parent[last];
    }
    return doc;
  }

  function toPointer(keys: string[]): string {
    return keys.map(k => '/' + k.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
  }
}
