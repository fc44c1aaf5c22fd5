/**
 * JupyterLab notifications for invalid edits: one per tenant and error, with an action that
 * opens the failing file at its line, dismissed when the tenant recovers.
 */
import { Notification } from '@jupyterlab/apputils';
import type { CodeEditor } from '@jupyterlab/codeeditor';
import { PathExt } from '@jupyterlab/coreutils';
import type { IDocumentManager } from '@jupyterlab/docmanager';

import { HotConfModel } from './model';
import { describeError, IConfigError, Message } from './protocol';

/** Where the config dir is, relative to the server root, when the server does not say. */
export const DEFAULT_CONFIG_DIR = 'configs';

export class HotConfNotifier {
  constructor(model: HotConfModel, docManager: IDocumentManager | null) {
    this._model = model;
    this._docManager = docManager;
    model.messageReceived.connect(this._onMessage, this);
  }

  dispose(): void {
    this._model.messageReceived.disconnect(this._onMessage, this);
    for (const tenantId of [...this._shown.keys()]) {
      this._dismiss(tenantId);
    }
  }

  private _onMessage(_: HotConfModel, message: Message): void {
    switch (message.kind) {
      case 'ConfigInvalid': {
        const { tenant_id, ...error } = message.body;
        this._invalid(tenant_id, error);
        break;
      }
      case 'Snapshot':
        if (!message.body.valid && message.body.error) {
          this._invalid(message.body.tenant_id, message.body.error);
        } else {
          this._dismiss(message.body.tenant_id);
        }
        break;
      case 'ConfigValid':
        this._dismiss(message.body.tenant_id);
        break;
      case 'ConfigChanged':
        this._dismiss(message.body.tenant_id);
        if (this._model.settings.notifyOnChange) {
          const { tenant_id, change_type, revision, source, actor } = message.body;
          // "(revision 4, rollback by alice)": who and how, when the server says (history on).
          const how = source ? `, ${source}${actor ? ` by ${actor}` : ''}` : '';
          Notification.info(`hotconf: ${tenant_id} ${change_type} (revision ${revision}${how})`, {
            autoClose: 4000
          });
        }
        break;
    }
  }

  private _invalid(tenantId: string, error: IConfigError): void {
    const text = describeError(error);
    const key = `${error.file}\u0000${text}`;
    const shown = this._shown.get(tenantId);
    if (shown?.key === key) {
      return; // the same error again (a resync): one notification is enough
    }
    this._dismiss(tenantId);
    const actions: Notification.IAction[] = [];
    if (this._docManager) {
      actions.push({
        label: 'Open file',
        caption: `Open ${error.file} at line ${error.line ?? 1}`,
        callback: () => void this.openAt(error)
      });
    }
    const id = Notification.error(`hotconf: ${tenantId}: ${text}`, {
      autoClose: false,
      actions
    });
    this._shown.set(tenantId, { key, id });
  }

  private _dismiss(tenantId: string): void {
    const shown = this._shown.get(tenantId);
    if (shown) {
      Notification.dismiss(shown.id);
      this._shown.delete(tenantId);
    }
  }

  /** Open the failing file (relative to the config dir) and put the cursor on its line. */
  async openAt(error: IConfigError): Promise<void> {
    if (!this._docManager) {
      return;
    }
    const path = Private.serverPath(this._model, error.file);
    // The text editor, not the JSON viewer: we need a cursor to put on the line.
    const widget = this._docManager.openOrReveal(path, 'Editor');
    if (!widget) {
      Notification.warning(`hotconf: cannot open ${path} (is it under the server root?)`);
      return;
    }
    await widget.context.ready;
    await widget.revealed;
    const editor = (widget.content as { editor?: CodeEditor.IEditor }).editor;
    if (editor && error.line) {
      const position = { line: error.line - 1, column: Math.max(0, (error.column ?? 1) - 1) };
      editor.setCursorPosition(position);
      editor.revealPosition(position);
      editor.focus();
    }
  }

  private _model: HotConfModel;
  private _docManager: IDocumentManager | null;
  private _shown = new Map<string, { key: string; id: string }>();
}

namespace Private {
  /** The file's path from the server root: the server may say where the config dir is. */
  export function serverPath(model: HotConfModel, file: string): string {
    const dir = model.info?.config_dir_relative ?? DEFAULT_CONFIG_DIR;
    return PathExt.join(dir, file);
  }
}
