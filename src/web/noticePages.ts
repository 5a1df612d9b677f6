import express, { type Response, Router } from 'express'
import { z } from 'zod'
import type { AppContext } from '../api/context.js'
import { statusOf } from '../api/errorStatus.js'
import { NotFoundError } from '../core/errors.js'
import { verifyEmail } from '../notifications/emailSettings.js'
import { noticeKindWords } from '../notifications/noticeKindWords.js'
import { readUnsubscribeToken, unsubscribe } from '../notifications/unsubscribe.js'
import { escapeHtml, pageHead } from './managePage.js'

const token = z.object({ token: z.string().min(10).max(2_000) })

/** A notice page, built as the other pages are: the shared head and stylesheet, landmarks. */
const page = (res: Response, status: number, product: string, title: string, body: string) => {
  res
    .status(status)
    .type('html')
    .send(`<!doctype html>
<html lang="en">
<head>
${pageHead(`${title} · ${product}`)}
</head>
<body>
<header class="bar"><a href="/dashboard">${escapeHtml(product)}</a></header>
<main>
  <h1>${escapeHtml(title)}</h1>
  <section class="card">${body}</section>
</main>
</body>
</html>`)
}

/**
 * The links notice mails carry, opened without signing in: `/notices/verify` (the one-time
 * link that verifies an address) and `/notices/unsubscribe` (stops one kind for one address;
 * GET shows a button, POST — the button, or a mail client's one-click — does it, so a link
 * scanner fetching the page changes nothing).
 */
export function noticePagesRouter(ctx: AppContext): Router {
  const r = Router()
  const product = ctx.config.product.name
  const key = ctx.config.notifications.key

  r.get('/verify', async (req, res) => {
    const q = token.safeParse(req.query)
    try {
      if (!q.success) throw new NotFoundError('no token')
      const { address } = await verifyEmail(ctx.db, q.data.token)
      page(
        res,
        200,
        product,
        'Address confirmed',
        `<p>${escapeHtml(address)} will receive the notices chosen on the manage page.</p>`,
      )
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e
      page(
        res,
        statusOf('NOT_FOUND'),
        product,
        'Link not valid',
        '<p>This verification link was used already, has expired or is unknown. Set the address again to get a new one.</p>',
      )
    }
  })

  r.get('/unsubscribe', (req, res) => {
    const q = token.safeParse(req.query)
    const t = q.success ? readUnsubscribeToken(key, q.data.token) : null
    if (!q.success || !t) {
      page(
        res,
        statusOf('NOT_FOUND'),
        product,
        'Link not valid',
        '<p>This unsubscribe link is not one of ours.</p>',
      )
      return
    }
    page(
      res,
      200,
      product,
      'Stop these notices?',
      `<p>Stop the notice “${escapeHtml(noticeKindWords(t.kind))}” to ${escapeHtml(t.address)}? Other notices are unchanged.</p><form method="post"><input type="hidden" name="token" value="${escapeHtml(q.data.token)}"><button type="submit" class="primary">Stop them</button></form>`,
    )
  })

  // The form posts urlencoded; a mail client's one-click (RFC 8058) posts to the link itself.
  r.post(
    '/unsubscribe',
    express.urlencoded({ extended: false, limit: '4kb' }),
    async (req, res) => {
      const fromBody = token.safeParse(req.body)
      const q = fromBody.success ? fromBody : token.safeParse(req.query)
      try {
        if (!q.success) throw new NotFoundError('no token')
        const out = await unsubscribe(ctx.db, key, q.data.token)
        page(
          res,
          200,
          product,
          'Unsubscribed',
          `<p>${escapeHtml(out.address)} receives no more “${escapeHtml(noticeKindWords(out.kind))}” notices.</p>`,
        )
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e
        page(
          res,
          statusOf('NOT_FOUND'),
          product,
          'Link not valid',
          '<p>This unsubscribe link is not one of ours.</p>',
        )
      }
    },
  )
  return r
}
