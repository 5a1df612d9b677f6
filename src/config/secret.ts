import { inspect } from 'node:util'

/**
 * A value that must never reach a log: printing, inspecting or serializing it shows
 * `[redacted]`. Read the value with `reveal()` at the one place that needs it.
 */
export class Secret<T extends string = string> {
  readonly #value: T
  constructor(value: T) {
    this.#value = value
  }
  /** The secret value itself; call only where it is used (signing, hashing). */
  reveal(): T {
    return this.#value
  }
  toString() {
    return '[redacted]'
  }
  toJSON() {
    return '[redacted]'
  }
  [inspect.custom]() {
    return 'Secret([redacted])'
  }
}
