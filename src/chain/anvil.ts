import { type ChildProcess, spawn } from 'node:child_process'
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { projectRoot } from '../config/index.js'
import { anvilRpc } from './anvilRpc.js'

const arch = process.arch === 'x64' ? 'amd64' : process.arch

/**
 * The native anvil binary from `@foundry-rs/anvil-<os>-<arch>`. We run it directly rather than
 * through the package's node wrapper, so the process we stop is anvil itself and nothing
 * can be orphaned behind a wrapper.
 */
const anvilBin = resolve(
  projectRoot,
  `node_modules/@foundry-rs/anvil-${process.platform}-${arch}/bin/anvil`,
)

export type StartAnvilParameters = {
  /** 0 picks a free port. */
  port?: number
  /**
   * Load state from this file at start, and write it there after every new block and on stop,
   * so a dev chain survives restarts — an abrupt one (SIGKILL, a crash, power off) too.
   */
  stateFile?: string
  /** How often to look for a new block to save, in milliseconds (default 200). */
  stateIntervalMs?: number
  /** Seconds between blocks; by default a block is mined per transaction. */
  blockTime?: number
  chainId?: number
  /** Extra anvil arguments. */
  args?: string[]
}

export type AnvilHandle = {
  rpcUrl: string
  port: number
  process: ChildProcess
  stop: () => Promise<void>
}

/**
 * A free TCP port on loopback, below the kernel's ephemeral range.
 *
 * A port the kernel hands out for `listen(0)` comes from the same range it uses for the local
 * end of outgoing connections, so in the seconds before the caller binds it (an embedded
 * PostgreSQL starting, say) any new connection on the machine can take it. A port below that
 * range is only ever taken by someone who asked for it by number.
 *
 * @internal Exported for the tests and the bench and soak scripts, which pick their ports so.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange()
  const floor = 10_000
  if (low - floor >= 1_000)
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = floor + Math.floor(Math.random() * (low - floor))
      if (await canListen(port)) return port
    }
  return await listenOnce(0)
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!]
  } catch {}
  return [32_768, 60_999]
}

async function canListen(port: number): Promise<boolean> {
  return await listenOnce(port).then(
    () => true,
    () => false,
  )
}

async function listenOnce(port: number): Promise<number> {
  return await new Promise((ok, fail) => {
    const server = createServer()
    server.unref()
    server.on('error', fail)
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail()))
    })
  })
}

/**
 * Starts anvil from the npm package `@foundry-rs/anvil` and waits until it answers RPC.
 * The child is killed when this process exits, so no anvil outlives its parent.
 */
export async function startAnvil(parameters: StartAnvilParameters = {}): Promise<AnvilHandle> {
  const port = parameters.port || (await freePort())
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--chain-id',
    String(parameters.chainId ?? 31337),
  ]
  // Loaded by anvil, saved by us: anvil's own dumps (on exit, or `--state-interval`) write the
  // file in place, and a kill mid-write leaves a chain that cannot load.
  if (parameters.stateFile && existsSync(parameters.stateFile))
    args.push('--load-state', parameters.stateFile)
  if (parameters.blockTime) args.push('--block-time', String(parameters.blockTime))
  args.push(...(parameters.args ?? []))
  const child = spawn(anvilBin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (d) => {
    if (output.length < 10_000) output += d
  })
  child.stderr?.on('data', (d) => {
    if (output.length < 10_000) output += d
  })
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const rpcUrl = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited with ${child.exitCode}: ${output}`)
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      })
      if (res.ok) break
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`anvil did not answer on ${rpcUrl}: ${output}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  const saver = parameters.stateFile
    ? saveStateOnNewBlocks(rpcUrl, parameters.stateFile, parameters.stateIntervalMs ?? 200)
    : undefined
  return {
    rpcUrl,
    port,
    process: child,
    stop: async () => {
      process.off('exit', killOnExit)
      await saver?.stop()
      if (child.exitCode !== null) return
      await new Promise<void>((done) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
        child.once('exit', () => {
          clearTimeout(timer)
          done()
        })
        child.kill('SIGTERM')
      })
    },
  }
}

/**
 * Saves anvil's state to `file` whenever the chain has a new block (and once more on stop):
 * written to a temporary file, synced, then renamed over the old one, so the file always
 * holds a whole state — the last block's, or at worst the one before it.
 */
function saveStateOnNewBlocks(rpcUrl: string, file: string, everyMs: number) {
  let saved: string | undefined
  let running: Promise<void> = Promise.resolve()
  const save = async () => {
    const head = await anvilRpc<string>(rpcUrl, 'eth_blockNumber')
    if (head === saved) return
    // anvil answers the same JSON `--load-state` reads, gzipped and hex-encoded.
    const dump = await anvilRpc<string>(rpcUrl, 'anvil_dumpState')
    const json = gunzipSync(Buffer.from(dump.slice(2), 'hex'))
    const tmp = `${file}.tmp`
    const fd = openSync(tmp, 'w', 0o600)
    try {
      writeSync(fd, json)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
    saved = head
  }
  const tick = () => {
    // One save at a time; a node that does not answer (stopping, restarting) is tried next tick.
    running = running.then(save).catch(() => {})
  }
  const timer = setInterval(tick, everyMs)
  timer.unref()
  return {
    stop: async () => {
      clearInterval(timer)
      tick()
      await running
    },
  }
}
