import { signManageToken } from '../../src/web/session.js'
import { describe, expect, test } from '../fixtures.js'
import { signUp, startApi } from './server.js'

describe('a fresh manage link on the manage page', () => {
  test('reads the amounts the page shows (usage, statement, notice mail), changes nothing', async ({
    db,
  }) => {
    const api = await startApi(db)
    try {
      const org = await signUp(api)
      const sub: string = org.subscription_id
      const used = await api.call('POST', '/v1/usage', {
        key: org.api_key,
        body: { action: 'save_comment' },
      })
      expect(used.status).toBe(201)
      const month = new Date().toISOString().slice(0, 7)
      const as = (token: string) => ({ headers: { 'x-manage-token': token } })
      const fresh = as(signManageToken(api.ctx.config, sub, 'link', 60))
      const expired = as(signManageToken(api.ctx.config, sub, 'link', -1))

      const usage = await api.call('GET', `/s/${sub}/usage?period=window`, fresh)
      expect(usage.status, usage.text).toBe(200)
      expect(usage.json.by_action).toEqual([
        expect.objectContaining({ action: 'save_comment', calls: 1 }),
      ])
      const statement = await api.call('GET', `/s/${sub}/statements/${month}`, fresh)
      expect(statement.status, statement.text).toBe(200)
      const mail = await api.call('GET', `/s/${sub}/notifications/email`, fresh)
      expect(mail.status, mail.text).toBe(200)
      expect(mail.json.email).toMatchObject({ address: null, verified: false })

      // An expired link, or none, reads nothing; a link never writes (the owner's wallet does).
      for (const path of [`/usage?period=window`, `/statements/${month}`, '/notifications/email']) {
        for (const p of [expired, {}]) {
          const res = await api.call('GET', `/s/${sub}${path}`, p)
          expect([path, res.status, res.json.error.code]).toEqual([path, 403, 'NOT_OWNER'])
        }
      }
      const write = await api.call('POST', `/s/${sub}/notifications/email`, {
        ...fresh,
        body: { address: 'owner@example.com', kinds: ['charge_failed'] },
      })
      expect([write.status, write.json.error.code]).toEqual([403, 'NOT_OWNER'])
    } finally {
      await api.stop()
    }
  })
})
