/**
 * The status-bar item: a coloured dot and a one-line summary (tooltip only in compact mode).
 * It only renders the model; a 1 s tick keeps "5 s ago" current while attached.
 */
import React from 'react';

import { HotConfModel } from './model';
import { TickingRenderer } from './ticking';
import { summary } from './state';

export class HotConfStatus extends TickingRenderer<HotConfModel> {
  constructor(model: HotConfModel, onClick: () => void) {
    super(model);
    this._onClick = onClick;
    this.addClass('jp-hotconf-status');
    this.title.caption = 'hotconf';
  }


  render(): JSX.Element | null {
    const status = this.model.status;
    const text = summary(status, Date.now());
    const tooltip = status.lastError ? `${text}\n${status.lastError}` : text;
    this.node.dataset.hotconfLink = status.link;
    this.node.dataset.hotconfLevel = status.level;
    this.node.title = tooltip;
    return (
      <div
        className={`jp-hotconf-item jp-hotconf-level-${status.level}`}
        onClick={this._onClick}
        role="button"
        aria-label={tooltip}
      >
        <Private.Dot />
        {this.model.settings.compact ? null : <span className="jp-hotconf-text">{text}</span>}
      </div>
    );
  }

  private _onClick: () => void;
}

namespace Private {
  /** A filled circle in `currentColor`, so the theme colour of the level shows through. */
  export function Dot(): JSX.Element {
    return (
      <svg className="jp-hotconf-dot" viewBox="0 0 16 16" width="10" height="10">
        <circle cx="8" cy="8" r="6" fill="currentColor" />
      </svg>
    );
  }
}
