#!/usr/bin/env node
// A stand-in for the native `solc` binary over the npm `solc` package (solc-js), so forge
// compiles offline from a fresh `npm ci` with no Foundry install script and no download.
// Forge only needs two things from it: `--version` in native solc's format, and
// `--standard-json` from stdin to stdout. Sources usually arrive with their content; the
// import callback reads anything else relative to the cwd, --base-path or --include-path.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, join, resolve } from 'node:path'

const require = createRequire(import.meta.url)
const solc = require('solc')

const args = process.argv.slice(2)

if (args.includes('--version') || args.includes('-v')) {
  // Native: "Version: 0.8.30+commit.73712a01.Linux.g++". Forge parses the semver and commit.
  const version = solc.version().replace(/\.Emscripten\.clang$/, '.Linux.g++')
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${version}\n`)
  process.exit(0)
}

if (!args.includes('--standard-json')) {
  process.stderr.write('scripts/solc.mjs supports only --version and --standard-json\n')
  process.exit(1)
}

const roots = [process.cwd()]
for (let i = 0; i < args.length; i++) {
  const flag = args[i]
  if (flag === '--base-path' || flag === '--include-path' || flag === '--allow-paths') {
    for (const p of (args[i + 1] ?? '').split(',')) if (p) roots.push(resolve(p))
    i++
  }
}

function findImports(path) {
  const candidates = isAbsolute(path) ? [path] : roots.map((root) => join(root, path))
  for (const candidate of candidates) {
    try {
      return { contents: readFileSync(candidate, 'utf8') }
    } catch {}
  }
  return { error: `File not found: ${path}` }
}

const chunks = []
process.stdin.on('data', (chunk) => chunks.push(chunk))
process.stdin.on('end', () => {
  const input = Buffer.concat(chunks).toString('utf8')
  process.stdout.write(solc.compile(input, { import: findImports }))
})
