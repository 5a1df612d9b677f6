import nodemailer from 'nodemailer'
import type { Secret } from '../config/secret.js'
import type { EventLinks } from './events.js'

/** What sends a mail: a nodemailer transport (SMTP), or anything that answers like one. */
export type Mailer = {
  sendMail(m: {
    from: string
    to: string
    subject: string
    text: string
    html: string
    headers?: Record<string, string>
  }): Promise<{ messageId: string }>
}

/** A mailer over SMTP (`smtp://…`, `smtps://…`): one pooled connection set per process. */
export const smtpMailer = (smtpUrl: Secret): Mailer => nodemailer.createTransport(smtpUrl.reveal())

export type MailOptions = {
  mailer: Mailer
  from: string
  productName: string
  key: Secret
  links: EventLinks
  /** A mail the server refused is tried again after this (doubling, at most an hour). */
  retryBaseMs?: number | undefined
}
