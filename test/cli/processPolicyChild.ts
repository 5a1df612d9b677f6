// A process under the policy `tollgate dev` and `tollgate worker` install: it meets a rejected
// promise nobody awaits and an exception thrown from a timer (both survived), says it is
// alive, then meets a fatal error (out of file descriptors) and must exit through `exit`.
import { installProcessPolicy } from '../../src/cli/processPolicy.js'
import { createLogger } from '../../src/core/log.js'

installProcessPolicy({
  log: createLogger('error'),
  exit: (code) => {
    process.stdout.write(`stopping ${code}\n`)
    process.exit(code)
  },
})
void Promise.reject(new TypeError('Cannot mix BigInt and other types, use explicit conversions'))
setTimeout(() => {
  throw new Error('a callback nobody guarded')
}, 10)
setTimeout(() => {
  process.stdout.write('alive\n')
  setTimeout(() => {
    throw Object.assign(new Error('too many open files'), { code: 'EMFILE' })
  }, 10)
}, 100)
setTimeout(() => process.stdout.write('still running after a fatal error\n'), 5_000)
