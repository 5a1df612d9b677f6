import { z } from 'zod'
import { BaseError } from './errors.js'

/**
 * What PostgreSQL cannot keep in a text column: NUL, which it refuses outright, and a UTF-16
 * surrogate without its pair, which has no UTF-8 form (the driver would store U+FFFD instead).
 */
const loneSurrogate = /\p{Cs}/u

/** The stable code of text a caller sent that PostgreSQL cannot store. */
export const INVALID_TEXT = 'INVALID_TEXT'

/** Whether `s` can be stored as sent. */
export const isStorableText = (s: string) => !s.includes('\0') && !loneSurrogate.test(s)

/** A text value holds a character PostgreSQL cannot store (NUL, a lone surrogate). */
export class InvalidTextError extends BaseError {
  override name = 'InvalidTextError'
  constructor(where: string) {
    super(`${where} contains a character that cannot be stored (NUL or an unpaired surrogate)`, {
      code: INVALID_TEXT,
    })
  }
}

/**
 * The string schema of every text field the API takes: refuses what PostgreSQL cannot store
 * before anything runs (a request refused here is never metered). The error handler answers
 * its issue with `INVALID_TEXT`.
 *
 * @example
 * const title = text().trim().min(1).max(500)
 */
export const text = () =>
  z.string().refine(isStorableText, {
    message: 'contains a character that cannot be stored (NUL or an unpaired surrogate)',
    params: { code: INVALID_TEXT },
  })

/**
 * Characters that change how the text around them is shown, not what it says: control
 * characters (newlines, escapes) and the bidirectional overrides, embeddings, isolates and marks
 * that can make `evil\u202Egnp.exe` read `evilexe.png` on an owner's page or in a mail.
 */
const invisibleFormatting = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u

/**
 * The schema of a name shown to people (an org's name, a key's label, a webhook's description):
 * storable text (`text`), trimmed, with no control or bidirectional formatting characters left,
 * so a name cannot disguise itself where it is shown.
 *
 * @example
 * const name = displayName().min(1).max(200)
 */
export const displayName = () =>
  text()
    .trim()
    .refine((s) => !invisibleFormatting.test(s), {
      message: 'contains a control or bidirectional formatting character (e.g. U+202E)',
    })
