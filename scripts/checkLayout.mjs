#!/usr/bin/env node
// Two rules of the layout (docs/design.md, "Ownership between folders" and "Layers"), checked by
// `npm run lint` and `npm test`; exits 1 naming each place that breaks one:
// - one writer per table: a table declared by `pgTable('name', …)` in src/<folder>/ is inserted
//   into, updated, deleted from or truncated only by files of src/<folder>/ — as SQL in any string
//   or template (`insert into name`, `update "name"`, `update ${name}`) or through drizzle
//   (`.insert(name)`, `.update(schema.name)`, `.delete(name)`);
// - one idea per file: no hand-written file in src/ over 400 lines. Generated files are exempt by
//   name: src/chain/abis.ts (scripts/generateAbis.ts) and src/db/migrations/ (drizzle-kit).
// Comments are left out of the table rule, so prose may name a write.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const MAX_LINES = 400
const generated = [/^src\/chain\/abis\.ts$/, /^src\/db\/migrations\//]

const files = execFileSync(
  'git',
  ['ls-files', '--cached', '--others', '--exclude-standard', 'src'],
  {
    encoding: 'utf8',
  },
)
  .split('\n')
  .filter((f) => f !== '')
  .map((path) => ({ path, text: readTracked(path) }))
  .filter((f) => f.text !== null)

function readTracked(path) {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null // deleted in the work tree, not yet in the index
  }
}

const folderOf = (path) => path.split('/')[1]
const lineAt = (text, index) => text.slice(0, index).split('\n').length
const problems = []

// Line comments (after the start of a line or white space, so `http://` stays) and block
// comments become spaces: line numbers and offsets stay right.
const blank = (s) => s.replace(/[^\n]/g, ' ')
const withoutComments = (text) =>
  text
    .replace(/\/\*[\s\S]*?\*\//g, blank)
    .replace(/(^|\s)\/\/[^\n]*/g, (m, lead) => lead + blank(m.slice(lead.length)))

// table name → { owner folder, the names the declaring module exports it as }
const tables = new Map()
for (const { path, text } of files) {
  if (!path.endsWith('.ts')) continue
  for (const m of text.matchAll(/export const (\w+)\s*=\s*pgTable\(\s*['"](\w+)['"]/g)) {
    tables.set(m[2], { owner: folderOf(path), exportName: m[1] })
  }
}

const sqlWords = String.raw`\b(?:insert\s+into|update|delete\s+from|truncate(?:\s+table)?|merge\s+into)\s+(?:only\s+)?(?:"?public"?\.)?`
const writers = []
for (const [table, { owner, exportName }] of tables) {
  const patterns = [
    new RegExp(`${sqlWords}"?${table}"?(?![\\w.])`, 'gi'),
    new RegExp(`${sqlWords}\\$\\{\\s*(?:[\\w.]+\\.)?${exportName}\\s*\\}`, 'gi'),
    new RegExp(`\\.(?:insert|update|delete)\\(\\s*(?:[\\w.]+\\.)?${exportName}\\s*[,)]`, 'g'),
  ]
  writers.push({ table, owner, patterns })
}

for (const { path, text } of files) {
  if (generated.some((re) => re.test(path))) continue
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  if (lines > MAX_LINES)
    problems.push(`${path}: ${lines} lines, over ${MAX_LINES}: split it, one idea per file`)
  if (!/\.(ts|mjs|js)$/.test(path)) continue
  const code = withoutComments(text)
  for (const { table, owner, patterns } of writers) {
    if (folderOf(path) === owner) continue
    for (const re of patterns) {
      for (const m of code.matchAll(re)) {
        problems.push(
          `${path}:${lineAt(code, m.index)}: writes ${table} (${m[0].replace(/\s+/g, ' ')}), ` +
            `owned by src/${owner}/: call a function of src/${owner}/ instead`,
        )
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`layout: ${problems.length} problem(s)\n${problems.join('\n')}`)
  process.exit(1)
}
console.log(
  `layout: ${tables.size} tables, each written only by its folder; no hand-written file in src/ over ${MAX_LINES} lines`,
)
