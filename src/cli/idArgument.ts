import { ValidationError } from '../core/errors.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * An org's or an API key's id as given on the command line (`--org`, `--key`): a UUID, else
 * `VALIDATION_FAILED` naming it — before anything reads the database.
 *
 * @example
 * program.requiredOption('--org <id>', 'organization id', idArgument)
 */
export const idArgument = (text: string): string => {
  if (!UUID.test(text)) throw new ValidationError(`"${text}" is not an id (a UUID)`)
  return text
}
