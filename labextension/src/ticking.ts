/**
 * A VDomRenderer that re-renders every second while attached, so "5 s ago" stays true.
 */
import { VDomModel, VDomRenderer } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';

export abstract class TickingRenderer<T extends VDomModel> extends VDomRenderer<T> {
  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._tick = window.setInterval(() => this.update(), 1000);
  }

  protected onBeforeDetach(msg: Message): void {
    window.clearInterval(this._tick);
    super.onBeforeDetach(msg);
  }

  private _tick = 0;
}
