// ESLint flat config. Lives under test/ to keep the project's top level to the mandated files.
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', '.tap/**'] }),
  {
    rules: {
      // R3: exactly one module may start processes (shared/process-runner.ts).
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'node:child_process', message: 'use shared/process-runner.ts' },
          { name: 'child_process', message: 'use shared/process-runner.ts' }
        ]
      }]
    }
  },
  {
    // The agent runs `node --jitless` (it keeps idle memory under 80 MB and allows W^X), which has
    // no WebAssembly; undici's HTTP parser is wasm. Product code uses shared/https-client.ts; tests
    // and the coordinator (not jitless) may use undici.
    files: ['agent/**/*.ts', 'shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'node:child_process', message: 'use shared/process-runner.ts' },
          { name: 'child_process', message: 'use shared/process-runner.ts' },
          { name: 'undici', message: 'the agent runs --jitless (no WebAssembly): use shared/https-client.ts' }
        ]
      }]
    }
  },
  {
    // Bootstrap scripts run before the TypeScript build exists, so they cannot use the runner.
    files: ['shared/process-runner.ts', 'test/run-tests.mjs', 'test/lab/run-lab-cli.mjs', 'test/demo/run-demo.mjs'],
    rules: { 'no-restricted-imports': 'off' }
  }
]
