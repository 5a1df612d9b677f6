import nodemailer from 'nodemailer'
import { Webhook } from 'standardwebhooks'
import type { Db } from '../../src/db/client.js'
import { deliverWebhooks, fanOut } from '../../src/notifications/deliver.js'
import { deliverEmails } from '../../src/notifications/deliverEmails.js'
import { setEmailSettings } from '../../src/notifications/emailSettings.js'
import { startMailCatcher } from '../../src/notifications/mailCatcher.js'
import type { MailOptions } from '../../src/notifications/mailer.js'
import { createEndpoint } from '../../src/notifications/webhooks.js'
import { config } from '../ledger/helpers.js'
import { startReceiver } from './webhookReceiver.js'

export const rigBaseUrl = 'https://tollgate.test'

export type DeliveredEvent = {
  /** The `webhook-id` header. */
  webhookId: string
  id: string
  org_id: string
  type: string
  data: Record<string, unknown>
}

/**
 * The delivery side of a notification end-to-end test: a real HTTP receiver, a real SMTP
 * catcher, an endpoint and a verified address per org, the delivery worker's steps drained,
 * and every received request verified with `standardwebhooks` against its org's secret.
 */
export async function startNotificationRig(db: Db, chainId: number) {
  const receiver = await startReceiver()
  const catcher = await startMailCatcher()
  const links = { publicBaseUrl: rigBaseUrl, chainId }
  const mail: MailOptions = {
    mailer: nodemailer.createTransport(catcher.url),
    from: 'Tollgate <notices@tollgate.test>',
    productName: 'Tollgate',
    key: config.notifications.key,
    links,
  }
  const secrets = new Map<string, string>()
  return {
    receiver,
    catcher,
    /** Registers a webhook endpoint at the receiver and a verified address for the org. */
    subscribe: async (orgId: string, address: string) => {
      const { secret } = await createEndpoint(db, config.notifications.key, {
        orgId,
        url: receiver.url,
        production: false,
      })
      secrets.set(orgId, secret)
      await setEmailSettings(db, config.notifications.key, { orgId, address, verified: true })
    },
    /** The delivery worker's steps until nothing is left to do. */
    drain: async () => {
      for (;;) {
        const f = await fanOut(db)
        const w = await deliverWebhooks(db, { key: config.notifications.key, links })
        const m = await deliverEmails(db, mail)
        if (f + w + m === 0) return
      }
    },
    /** Every request received, each verified with its org's endpoint secret (throws if not). */
    delivered: (): DeliveredEvent[] =>
      receiver.received.map((r) => {
        const body = JSON.parse(r.body) as { data: Omit<DeliveredEvent, 'webhookId'> }
        new Webhook(secrets.get(body.data.org_id)!).verify(r.body, {
          'webhook-id': r.headers['webhook-id'] as string,
          'webhook-timestamp': r.headers['webhook-timestamp'] as string,
          'webhook-signature': r.headers['webhook-signature'] as string,
        })
        return { ...body.data, webhookId: r.id }
      }),
    mailsTo: (address: string) => catcher.mails.filter((m) => m.to.includes(address)),
    manageUrl: (o: { subscriptionId: string }) => `${rigBaseUrl}/s/${o.subscriptionId}`,
    stop: async () => {
      await receiver.stop()
      await catcher.close()
    },
  }
}
