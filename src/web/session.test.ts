import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { loadConfig } from '../config/index.js'
import { signManageToken, verifyManageToken } from './session.js'

const folders: string[] = []
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})
const folder = () => {
  const f = mkdtempSync(join(tmpdir(), 'tg-session-'))
  folders.push(f)
  return f
}

test('MANAGE_TOKEN_SECRET, through the config, is the key every process shares', () => {
  const secret = 'a'.repeat(64)
  const a = loadConfig({ MANAGE_TOKEN_SECRET: secret, TOLLGATE_DATA_DIR: folder() })
  const b = loadConfig({ MANAGE_TOKEN_SECRET: secret, TOLLGATE_DATA_DIR: folder() })
  const other = loadConfig({ MANAGE_TOKEN_SECRET: 'b'.repeat(64), TOLLGATE_DATA_DIR: folder() })
  const token = signManageToken(a, 'sub-1', 'link', 60)
  expect(verifyManageToken(b, token, 'sub-1')).toBe('link')
  expect(verifyManageToken(b, token, 'sub-2')).toBeUndefined()
  expect(verifyManageToken(other, token, 'sub-1')).toBeUndefined()
  expect(() => loadConfig({ MANAGE_TOKEN_SECRET: 'short' })).toThrow(
    /MANAGE_TOKEN_SECRET: at least 32 characters/,
  )
})

test('unset, the key is generated once into the data folder, mode 0600', () => {
  const dir = folder()
  const one = loadConfig({ TOLLGATE_DATA_DIR: dir })
  const token = signManageToken(one, 'sub-1', '0xAbC', 60)
  const file = join(dir, 'manage-token-secret')
  expect(readFileSync(file, 'utf8')).toMatch(/^[0-9a-f]{64}$/)
  expect(statSync(file).mode & 0o777).toBe(0o600)
  // Another process on this machine reads the same file; another data folder has another key.
  expect(verifyManageToken(loadConfig({ TOLLGATE_DATA_DIR: dir }), token, 'sub-1')).toBe('0xabc')
  expect(verifyManageToken(loadConfig({ TOLLGATE_DATA_DIR: folder() }), token, 'sub-1')).toBe(
    undefined,
  )
})
