// Layers, top to bottom: cli → http (api, mcp, web, worker) → domain (subscriptions,
// settlement, queue, aa, notifications, x402) → ledger (ledger, and the subscription lifecycle's
// database half src/subscriptions/state/, which the meter moves in its own step) → infra (chain,
// db, config) → core (src/core: errors, log, errorCodes...). A module imports only from its own
// layer or below, and nothing imports in a cycle. Tests (*.test.ts) are outside the layers.
// docs/design.md, "Layers".
const layers = [
  ['cli', '^src/cli/'],
  ['http', '^src/(api|mcp|web|worker)/'],
  ['domain', '^src/(subscriptions/(?!state/)|settlement/|queue/|aa/|notifications/|x402/)'],
  ['ledger', '^src/(ledger|subscriptions/state)/'],
  ['infra', '^src/(chain|db|config)/'],
  ['core', '^src/core/'],
]

const above = (i) =>
  layers
    .slice(0, i)
    .map(([, p]) => p)
    .join('|')
const tests = '\\.test\\.ts$'

const layerRules = layers.slice(1).map(([name, path], j) => ({
  name: `${name}-points-down`,
  comment: `${name} imports nothing from the layers above it`,
  severity: 'error',
  from: { path, pathNot: tests },
  to: { path: above(j + 1) },
}))

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
}
