import { randomBytes } from 'node:crypto'
import { loadConfig } from '../../src/config/index.js'
import { verifyManageToken } from '../../src/web/session.js'
import { describe, expect, test } from '../fixtures.js'
import { tollgate } from './run.js'

// Each run of the command starts Node and loads the sources (~5 s apiece on a busy two-core
// machine): several of them take more than the default minute.
describe('tollgate org, key and manage-link', { timeout: 180_000 }, () => {
  test('create an org, mint, list and revoke keys, mint a manage link the API accepts', async ({
    databaseUrl,
  }) => {
    const env = { DATABASE_URL: databaseUrl, PUBLIC_BASE_URL: 'https://tollgate.test' }
    const owner = `0x${randomBytes(20).toString('hex')}`
    const created = await tollgate(
      ['org', 'create', '--name', 'CLI org', '--owner', owner, '--json'],
      env,
    )
    expect(created.code).toBe(0)
    const org = JSON.parse(created.stdout)
    expect(org).toMatchObject({
      signup_credit_micros: '2000000',
      api_key: expect.stringMatching(/^tg_live_/),
    })
    const bad = await tollgate(['org', 'create', '--name', 'x', '--owner', 'not-an-address'], env)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/owner_address is not an address/)
    const key = JSON.parse(
      (await tollgate(['key', 'create', '--org', org.org_id, '--label', 'agent-2', '--json'], env))
        .stdout,
    )
    const listed = JSON.parse(
      (await tollgate(['key', 'list', '--org', org.org_id, '--json'], env)).stdout,
    )
    expect(listed.map((k: { label: string }) => k.label)).toEqual(['first key', 'agent-2'])
    expect(JSON.stringify(listed)).not.toContain(key.key)
    expect((await tollgate(['key', 'revoke', key.id, '--org', org.org_id], env)).code).toBe(0)
    expect((await tollgate(['key', 'revoke', key.id, '--org', org.org_id], env)).code).toBe(1)
    const link = JSON.parse(
      (await tollgate(['billing', 'manage-link', '--org', org.org_id, '--json'], env)).stdout,
    )
    expect(link.url).toMatch(new RegExp(`^https://tollgate.test/s/${org.subscription_id}\\?t=`))
    // The command's own configuration: the same environment, so the same manage-token key.
    expect(
      verifyManageToken(
        loadConfig({ ...process.env, ...env }),
        new URL(link.url).searchParams.get('t')!,
        org.subscription_id,
      ),
    ).toBe('link')
    const history = await tollgate(['billing', 'history', '--org', org.org_id, '--json'], env)
    expect(history.code).toBe(0)
    expect(JSON.parse(history.stdout)).toEqual([])
  })
})
