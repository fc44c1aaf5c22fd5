/**
 * What jsdom lacks and @lumino/dragdrop needs at import (as @jupyterlab/testing's shim does).
 * Import it before any JupyterLab package in a test that runs under `@vitest-environment jsdom`.
 */
const scope = globalThis as { DragEvent?: unknown; MouseEvent: typeof MouseEvent };
if (scope.DragEvent === undefined) {
  scope.DragEvent = class DragEvent extends scope.MouseEvent {};
}
