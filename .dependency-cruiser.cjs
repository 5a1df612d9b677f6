// Layers, top to bottom: cli → http (api, mcp, web, worker) → domain (orgs, subscriptions,
// settlement, queue, aa) → ledger → infra (chain, db, config) → core (src/*.ts: errors, log,
// errorCodes). A module imports only from its own layer or below, and nothing imports in a
// cycle. Tests (*.test.ts) are outside the layers.
const layers = [
  ['cli', '^src/cli/'],
  ['http', '^src/(api|mcp|web|worker)/'],
  ['domain', '^src/(orgs|subscriptions|settlement|queue|aa|notifications|x402)/'],
  ['ledger', '^src/ledger/'],
  ['infra', '^src/(chain|db|config)/'],
  ['core', '^src/[^/]+\\.ts$'],
]

// Known back-edges, each allowed exactly (from → to) until what it names moves. Nothing else
// may point up; remove an entry once its edge is gone.
const knownUpward = [
  // queue/schemas uses the API's text helper: it moves to core.
  ['^src/queue/schemas\\.ts$', '^src/api/text\\.ts$'],
  // Config parses the rate card with the ledger's schema: rateCard's schema moves to config/
  // (or core), and the ledger imports it from there.
  ['^src/config/index\\.ts$', '^src/ledger/rateCard\\.ts$'],
  // drizzle's schema index pulls every folder's tables for db/client: the Db type must not need
  // them (a plain postgres.js handle, or each folder typing its own drizzle instance).
  [
    '^src/db/schema\\.ts$',
    '^src/(api|web|queue|settlement|subscriptions|ledger|notifications|x402)/schema\\.ts$',
  ],
]

const above = (i) =>
  layers
    .slice(0, i)
    .map(([, p]) => p)
    .join('|')
const tests = '\\.test\\.ts$'

const layerRules = layers.slice(1).flatMap(([name, path], j) => {
  const i = j + 1
  const exceptions = knownUpward.filter(([from]) =>
    new RegExp(path).test(from.replace(/\\/g, '').replace(/^\^/, '')),
  )
  return [
    {
      name: `${name}-points-down`,
      comment: `${name} imports nothing from the layers above it`,
      severity: 'error',
      from: { path, pathNot: [tests, ...exceptions.map(([from]) => from)] },
      to: { path: above(i) },
    },
    ...exceptions.map(([from, to]) => ({
      name: `${name}-points-down-known`,
      comment: `a known back-edge from ${from} (see knownUpward): nothing else may point up`,
      severity: 'error',
      from: { path: from },
      to: { path: above(i), pathNot: to },
    })),
  ]
})

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
