/**
 * jupyter-hotconf for JupyterLab 4 / Notebook 7: the `IHotConf` service, a status-bar item,
 * a panel, notifications on invalid edits and two palette commands (docs/labextension.md).
 *
 * Every front-end service it uses is optional, so a host with less (Notebook 7 without a
 * status bar, Voilà without a status bar, document manager or palette) still gets the
 * service, and the page logs no error.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import type { IStatusBar } from '@jupyterlab/statusbar';
import { Token } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import type { Widget } from '@lumino/widgets';

import { HistoryModel } from './historymodel';
import { confirmRollback, HotConfHistoryView } from './historyview';
import { DEFAULT_SETTINGS, HotConfModel, IHotConfSettings } from './model';
import { HotConfNotifier } from './notifications';
import { HotConfPanel } from './panel';
import { HotConfStatus } from './status';
import { IHotConf } from './tokens';

export { IHotConf } from './tokens';
export type { ITenantState, LinkStatus } from './state';
export type { IConfigError } from './protocol';
export type { IHistory, IHistoryEntry, IRollback } from './history';
export { HotConfAPIError } from './handler';

const PLUGIN_ID = 'jupyter-hotconf:plugin';

export namespace CommandIDs {
  export const reconnect = 'hotconf:reconnect';
  export const showPanel = 'hotconf:show-panel';
  export const showHistory = 'hotconf:show-history';
}

const plugin: JupyterFrontEndPlugin<IHotConf> = {
  id: PLUGIN_ID,
  description: 'Live per-tenant configuration: status item, notifications, IHotConf.',
  autoStart: true,
  provides: IHotConf,
  // The status bar and the document manager are optional too, but resolved at activation
  // (Private.optionalService): naming their tokens here would import their packages.
  optional: [ISettingRegistry, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    registry: ISettingRegistry | null,
    palette: ICommandPalette | null
  ): IHotConf => {
    const model = new HotConfModel({ serverSettings: app.serviceManager.serverSettings });
    let statusBar: IStatusBar | null = null;
    let panel: HotConfPanel | null = null;

    app.commands.addCommand(CommandIDs.showPanel, {
      label: 'hotconf: Show Configuration Status',
      caption: 'Each followed tenant with its status, revision, last change and error',
      execute: () => {
        if (!panel || panel.isDisposed) {
          panel = new HotConfPanel(model, tenant => {
            void app.commands.execute(CommandIDs.showHistory, { tenant });
          });
          Private.addToShell(app, panel, 'split-right');
        }
        app.shell.activateById(panel.id);
      }
    });
    const histories = new Map<string, HotConfHistoryView>();
    app.commands.addCommand(CommandIDs.showHistory, {
      label: args => (args.tenant ? `hotconf: History of ${args.tenant}` : 'hotconf: History'),
      caption: "A tenant's revisions: what changed, when, by whom; diff and rollback",
      describedBy: {
        args: {
          type: 'object',
          properties: { tenant: { type: 'string', description: 'the tenant id' } },
          required: ['tenant']
        }
      },
      execute: args => {
        const tenant = String(args.tenant ?? '');
        if (!tenant) {
          return;
        }
        let view = histories.get(tenant);
        if (!view || view.isDisposed) {
          const history = new HistoryModel({
            tenant,
            api: model.historyAPI,
            confirm: revision => confirmRollback(tenant, revision),
            current: () => model.tenants.get(tenant)?.revision ?? null,
            messages: model.messageReceived
          });
          view = new HotConfHistoryView(history);
          histories.set(tenant, view);
          view.disposed.connect(() => histories.delete(tenant));
          Private.addToShell(app, view, 'tab-after');
          void history.refresh();
        }
        app.shell.activateById(view.id);
      }
    });
    app.commands.addCommand(CommandIDs.reconnect, {
      label: 'hotconf: Reconnect',
      caption: 'Drop the configuration link and connect again now',
      execute: () => model.reconnect()
    });
    if (palette) {
      for (const command of [CommandIDs.showPanel, CommandIDs.reconnect]) {
        palette.addItem({ command, category: 'hotconf' });
      }
    }

    let registration: IDisposable | null = null;
    const place = (align: 'left' | 'right') => {
      if (!statusBar) {
        return; // Notebook 7 without a status bar: the service and the panel still work
      }
      // Disposing a registration disposes its widget too: a new item for every placement.
      registration?.dispose();
      const status = new HotConfStatus(model, () => {
        void app.commands.execute(CommandIDs.showPanel);
      });
      registration = statusBar.registerStatusItem(`${PLUGIN_ID}:status`, {
        item: status,
        align,
        rank: 50,
        isActive: () => model.visible,
        activeStateChanged: model.stateChanged
      });
    };

    const apply = (settings: IHotConfSettings) => {
      const moved = settings.position !== model.settings.position || registration === null;
      model.configure(settings);
      if (moved) {
        place(settings.position);
      }
    };

    const load = async () => {
      const [bar, docManager] = await Promise.all([
        Private.optionalService(app, async () => {
          return (await import('@jupyterlab/statusbar')).IStatusBar;
        }),
        Private.optionalService(app, async () => {
          return (await import('@jupyterlab/docmanager')).IDocumentManager;
        })
      ]);
      statusBar = bar;
      // Before the first message: an invalid config already in the first Snapshot notifies.
      // It lives as long as the page, as the model does.
      new HotConfNotifier(model, docManager);
      if (registry) {
        try {
          const settings = await registry.load(PLUGIN_ID);
          const read = () => ({ ...DEFAULT_SETTINGS, ...(settings.composite as object) });
          apply(read() as IHotConfSettings);
          settings.changed.connect(() => apply(read() as IHotConfSettings));
        } catch (err) {
          console.warn('hotconf: cannot load settings, using defaults:', err);
          apply(DEFAULT_SETTINGS);
        }
      } else {
        apply(DEFAULT_SETTINGS);
      }
      await model.start();
    };
    void load();
    return model;
  }
};

export default plugin;

namespace Private {
  /**
   * Put a view in the main area; Notebook 7's shell keeps one widget there, so there it goes
   * to the right side panel.
   */
  export function addToShell(
    app: JupyterFrontEnd,
    widget: Widget,
    mode: 'split-right' | 'tab-after'
  ): void {
    app.shell.add(widget, 'main', { mode });
    if (!widget.isAttached) {
      app.shell.add(widget, 'right', { rank: 1000 });
    }
  }

  /**
   * The service behind a token of a package the host may not share, or `null`.
   *
   * A static import of such a package fails the whole extension where the host lacks it:
   * the page logs "Shared module @jupyterlab/docmanager doesn't exist in shared scope
   * default" and no plugin of ours loads (Voilà shares neither `@jupyterlab/docmanager` nor
   * `@jupyterlab/statusbar`). Loaded on demand, the package's absence is a rejected promise
   * we turn into `null`, as the `optional` list does for a missing plugin. `package.json`
   * marks these packages `bundled: false`: the host's copy or none, never a second copy whose
   * token no host plugin provides.
   */
  export async function optionalService<T>(
    app: JupyterFrontEnd,
    loadToken: () => Promise<Token<T>>
  ): Promise<T | null> {
    let token: Token<T>;
    try {
      token = await loadToken();
    } catch {
      return null; // the host does not share the package
    }
    return app.resolveOptionalService(token);
  }
}
