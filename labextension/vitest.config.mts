import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      {
        // The model test (jsdom) needs only VDomModel: the package's index also loads the
        // web components, which need a full browser (matchMedia, custom elements).
        find: /^@jupyterlab\/ui-components$/,
        replacement: '@jupyterlab/ui-components/lib/components/vdom.js'
      }
    ]
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node'
  }
});
