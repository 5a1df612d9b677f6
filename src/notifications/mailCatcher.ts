import type { AddressInfo } from 'node:net'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

/** One mail the catcher accepted, parsed. */
export type CaughtMail = {
  at: string
  from: string
  to: string[]
  subject: string
  text: string
  html: string
  headers: Record<string, string>
}

export type MailCatcher = {
  /** `smtp://127.0.0.1:<port>`: give it to the app as SMTP_URL. */
  url: string
  mails: CaughtMail[]
  /** While true, every mail is refused with a 451 (a server that is down or throttling). */
  refusing: boolean
  /** Called with each mail once kept (`tollgate dev` hands it to its app process). */
  onMail?: ((mail: CaughtMail) => void) | undefined
  close(): Promise<void>
}

/**
 * A local SMTP server that accepts every mail and keeps it in memory (no auth, no TLS):
 * `tollgate dev` shows what it caught at `/dev/mail`, and the tests read what was sent.
 * Never for production: it listens on the loopback only.
 */
export async function startMailCatcher(port = 0, keep = 500): Promise<MailCatcher> {
  const catcher: MailCatcher = {
    url: '',
    mails: [],
    refusing: false,
    close: async () => {},
  }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, done) {
      if (catcher.refusing) {
        stream.resume()
        stream.on('end', () =>
          done(Object.assign(new Error('try again later'), { responseCode: 451 })),
        )
        return
      }
      simpleParser(stream)
        .then((m) => {
          const headers: Record<string, string> = {}
          for (const h of m.headerLines)
            headers[h.key] = h.line.slice(h.line.indexOf(':') + 1).trim()
          const to = Array.isArray(m.to) ? m.to : m.to ? [m.to] : []
          const mail: CaughtMail = {
            at: new Date().toISOString(),
            from: m.from?.text ?? '',
            to: to.flatMap((a) => a.value.map((v) => v.address ?? '')),
            subject: m.subject ?? '',
            text: m.text ?? '',
            html: typeof m.html === 'string' ? m.html : '',
            headers,
          }
          catcher.mails.push(mail)
          if (catcher.mails.length > keep) catcher.mails.splice(0, catcher.mails.length - keep)
          catcher.onMail?.(mail)
          done()
        })
        .catch((e: Error) => done(e))
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const { port: bound } = server.server.address() as AddressInfo
  catcher.url = `smtp://127.0.0.1:${bound}`
  catcher.close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  return catcher
}
