/**
 * jupyter-hotconf for JupyterLab 4 / Notebook 7: the `IHotConf` service, a status-bar item,
 * a panel, notifications on invalid edits and two palette commands (DESIGN.md §8).
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { IDisposable } from '@lumino/disposable';

import { DEFAULT_SETTINGS, HotConfModel, IHotConfSettings } from './model';
import { HotConfNotifier } from './notifications';
import { HotConfPanel } from './panel';
import { HotConfStatus } from './status';
import { IHotConf } from './tokens';

export { IHotConf } from './tokens';
export type { ITenantState, LinkStatus } from './state';
export type { IConfigError } from './protocol';

const PLUGIN_ID = 'jupyter-hotconf:plugin';

export namespace CommandIDs {
  export const reconnect = 'hotconf:reconnect';
  export const showPanel = 'hotconf:show-panel';
}

const plugin: JupyterFrontEndPlugin<IHotConf> = {
  id: PLUGIN_ID,
  description: 'Live per-tenant configuration: status item, notifications, IHotConf.',
  autoStart: true,
  provides: IHotConf,
  optional: [ISettingRegistry, IStatusBar, ICommandPalette, IDocumentManager],
  activate: (
    app: JupyterFrontEnd,
    registry: ISettingRegistry | null,
    statusBar: IStatusBar | null,
    palette: ICommandPalette | null,
    docManager: IDocumentManager | null
  ): IHotConf => {
    const model = new HotConfModel({ serverSettings: app.serviceManager.serverSettings });
    const notifier = new HotConfNotifier(model, docManager);
    let panel: HotConfPanel | null = null;

    app.commands.addCommand(CommandIDs.showPanel, {
      label: 'hotconf: Show Configuration Status',
      caption: 'Each followed tenant with its status, revision, last change and error',
      execute: () => {
        if (!panel || panel.isDisposed) {
          panel = new HotConfPanel(model);
          app.shell.add(panel, 'main', { mode: 'split-right' });
          if (!panel.isAttached) {
            // Notebook 7's shell keeps one widget in its main area: use its right side panel.
            app.shell.add(panel, 'right', { rank: 1000 });
          }
        }
        app.shell.activateById(panel.id);
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
    // The notifier lives as long as the page, as the model does.
    void notifier;
    return model;
  }
};

export default plugin;
