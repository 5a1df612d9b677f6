import { Router } from 'express'
import type { CaughtMail } from '../notifications/mailCatcher.js'

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  )

/**
 * `/dev/mail` (mounted by `tollgate dev` only): the mail the local SMTP catcher caught, newest
 * first, as text (links clickable) — `/dev/mail.json` for scripts. Never in production: the app
 * mounts it only when given a catcher.
 */
export function devMailRouter(mails: CaughtMail[]): Router {
  const r = Router()
  r.get('/mail', (_req, res) => {
    const linkify = (t: string) =>
      esc(t).replace(/https?:\/\/[^\s<>"]+/g, (u) => `<a href="${u}">${u}</a>`)
    const items = [...mails]
      .reverse()
      .map(
        (m) =>
          `<article style="border-top:1px solid #ccc;padding:.5em 0"><b>${esc(m.subject)}</b><br><small>${esc(m.at)} · to ${esc(m.to.join(', '))} · from ${esc(m.from)}</small><pre style="white-space:pre-wrap">${linkify(m.text)}</pre></article>`,
      )
      .join('\n')
    res
      .type('html')
      .send(
        `<!doctype html><html><head><meta charset="utf-8"><title>Caught mail</title></head><body style="font-family:sans-serif;max-width:50em;margin:2em auto"><h1>Caught mail (${mails.length})</h1><p>Everything the local SMTP catcher of <code>tollgate dev</code> accepted; nothing leaves this machine. <a href="/dev/mail.json">JSON</a></p>${items || '<p>None yet.</p>'}</body></html>`,
      )
  })
  r.get('/mail.json', (_req, res) => {
    res.json({ mails: [...mails].reverse() })
  })
  return r
}
