import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getAddress, isAddress, isHex } from 'viem'
import { z } from 'zod'
import { ConfigError } from '../core/errors.js'
import { parsePrepaidPackages } from '../core/prepaidPackages.js'
import { parseRateCard, type RateCard } from './rateCard.js'
import { Secret } from './secret.js'

/** The repository root, so defaults work from any working directory. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** anvil's well-known first keys: the local chain's deployer, operator and payee. */
export const anvilKeys = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
] as const

const micros = z
  .union([z.string().regex(/^\d+$/, 'a whole number of micro-credits'), z.number().int().min(0)])
  .transform((v) => BigInt(v))
const seconds = z.coerce.number().int().positive()
const address = z
  .string()
  .refine((v) => isAddress(v, { strict: false }), 'not an address')
  .transform((v) => getAddress(v))
const privateKey = z
  .string()
  .refine((v) => isHex(v) && v.length === 66, 'a 32-byte hex private key')
  .transform((v) => new Secret(v as `0x${string}`))
const url = z.string().url()

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  PUBLIC_BASE_URL: url.optional(),
  PRODUCT_NAME: z.string().min(1).default('Tollgate'),
  DASHBOARD_URL: url.optional(),
  TOLLGATE_DATA_DIR: z.string().default(resolve(projectRoot, '.tollgate')),

  DATABASE_URL: url.optional(),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),

  RPC_URL: url.optional(),
  ANVIL_PORT: z.coerce.number().int().min(1).max(65535).default(8545),
  DEPLOYMENT_FILE: z.string().optional(),
  OPERATOR_KEY: privateKey.optional(),
  DEPLOYER_KEY: privateKey.optional(),
  PAYEE: address.optional(),
  PAYEE_KEY: privateKey.optional(),
  CONFIRMATIONS: z.coerce.number().int().min(0).max(100).optional(),
  MAX_LOG_RANGE: z.coerce.bigint().min(1n).default(2_000n),

  RATE_CARD_PATH: z.string().default(resolve(projectRoot, 'src/ledger/rates.default.json')),
  SIGNUP_CREDIT_MICROS: micros.default(2_000_000n),
  BILLING_THRESHOLD_MICROS: micros.default(1_000_000n),
  MAX_ACCRUAL_AGE_SECONDS: seconds.default(86_400),
  WINDOW_SECONDS: seconds.default(2_592_000),
  RESERVATION_TTL_SECONDS: seconds.default(300),
  SIGNUP_CREDITS_PER_OWNER: z.coerce.number().int().min(0).default(1),
  /** x402: the top-up a 402 offers (and the least one payment may be), and the most. */
  X402_TOPUP_MICROS: micros.default(1_000_000n),
  X402_MAX_MICROS: micros.default(100_000_000n),
  /** Prepaid packages, "price_usd:bonus_usd,…" (e.g. "50:5"): a top-up of a price gets its bonus. */
  PREPAID_PACKAGES: z
    .string()
    .default('')
    .transform((v, ctx) => {
      try {
        return parsePrepaidPackages(v)
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message })
        return z.NEVER
      }
    }),

  /** Where notification mail goes out (`smtp://user:pass@host:587`, `smtps://…`); unset: no mail. */
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\//.test(v) && URL.canParse(v), 'an smtp:// or smtps:// URL')
    .transform((v) => new Secret(v))
    .optional(),
  SMTP_FROM: z.string().min(3).max(200).optional(),
  /**
   * Seals webhook signing secrets at rest and signs unsubscribe links (32+ characters).
   * Required in production; a fixed development key otherwise.
   */
  NOTIFY_KEY: z
    .string()
    .min(32, 'at least 32 characters')
    .transform((v) => new Secret(v))
    .optional(),
  /**
   * The operator's own org: operator-only events (operator.eth_low) are written to it, so its
   * webhook endpoints and `GET /v1/events` receive them. Unset: they are only recorded.
   */
  OPERATOR_ORG_ID: z.string().uuid().optional(),
  /** Below this balance (wei) the operator wallet's ETH is low (default 0.005 ETH). */
  OPERATOR_ETH_LOW_WEI: z.coerce.bigint().min(0n).default(5_000_000_000_000_000n),
  /**
   * The bearer token of the service that metered (`POST /v1/operator/refunds`), 32+ characters.
   * Unset: the operator routes answer 401 to everyone.
   */
  OPERATOR_API_TOKEN: z
    .string()
    .min(32)
    .transform((v) => new Secret(v))
    .optional(),
  /**
   * The HMAC key of manage links and manage sessions (32+ characters), the same on every API
   * node and the CLI. Unset: one is generated into the data folder, which only works on one machine.
   */
  MANAGE_TOKEN_SECRET: z
    .string()
    .min(32, 'at least 32 characters')
    .transform((v) => new Secret(v))
    .optional(),
})

/** The parsed, frozen configuration every process runs on. */
export type Config = ReturnType<typeof buildConfig>

/**
 * The address people and links use when `PUBLIC_BASE_URL` is unset: the very host and port the
 * API listens on (a wildcard host as 127.0.0.1), so the manage link `tollgate` prints, the
 * dashboard URL and the address the session cookie was set on are one origin — a cookie set on
 * 127.0.0.1 is not sent to localhost.
 */
function localBaseUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`
}

/** A mail domain for `host`: an IP address is no mail domain, so a local one sends as localhost. */
const mailDomain = (host: string) => (/^[\d.]+$|^\[/.test(host) ? 'localhost' : host)

function buildConfig(env: z.infer<typeof envSchema>, rateCard: RateCard) {
  const publicBaseUrl = (env.PUBLIC_BASE_URL ?? localBaseUrl(env.HOST, env.PORT)).replace(/\/$/, '')
  const local = env.RPC_URL === undefined
  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    dataDir: env.TOLLGATE_DATA_DIR,
    http: { host: env.HOST, port: env.PORT },
    /** Where `tollgate worker` serves `GET /metrics` (on `HOST`); 0 picks a free port. */
    workerMetricsPort: env.WORKER_METRICS_PORT,
    product: {
      name: env.PRODUCT_NAME,
      publicBaseUrl,
      dashboardUrl: env.DASHBOARD_URL ?? `${publicBaseUrl}/dashboard`,
    },
    db: {
      /** `undefined` means: start the embedded PostgreSQL. */
      url: env.DATABASE_URL,
      embeddedPort: env.EMBEDDED_PG_PORT,
      poolMax: env.DB_POOL_MAX,
    },
    chain: {
      /** `undefined` means: start a local anvil. */
      rpcUrl: env.RPC_URL,
      anvilPort: env.ANVIL_PORT,
      deploymentFile: env.DEPLOYMENT_FILE,
      operatorKey: env.OPERATOR_KEY ?? (local ? new Secret(anvilKeys[1]) : undefined),
      deployerKey: env.DEPLOYER_KEY ?? (local ? new Secret(anvilKeys[0]) : undefined),
      payee: env.PAYEE,
      /**
       * The payee wallet's key: only `tollgate refund --onchain` signs with it (a USDC transfer
       * back). Locally without PAYEE the deployer is the payee (`bootChain`), so its key.
       */
      payeeKey:
        env.PAYEE_KEY ??
        (local && env.PAYEE === undefined
          ? (env.DEPLOYER_KEY ?? new Secret(anvilKeys[0]))
          : undefined),
      confirmations: env.CONFIRMATIONS ?? (local ? 1 : 3),
      /** Most blocks per `eth_getLogs` (hosted RPCs cap it); reads are chunked to fit. */
      maxLogRange: env.MAX_LOG_RANGE,
    },
    billing: {
      signupCreditMicros: env.SIGNUP_CREDIT_MICROS,
      thresholdMicros: env.BILLING_THRESHOLD_MICROS,
      maxAccrualAgeSeconds: env.MAX_ACCRUAL_AGE_SECONDS,
      windowSeconds: env.WINDOW_SECONDS,
      reservationTtlSeconds: env.RESERVATION_TTL_SECONDS,
      signupCreditsPerOwner: env.SIGNUP_CREDITS_PER_OWNER,
      /** Top-up packages with bonus credit (docs/prepaid.md, Packages). */
      prepaidPackages: env.PREPAID_PACKAGES,
    },
    /** The x402 door: what a 402 offers to top up, and the most one payment may bring. */
    x402: { topUpMicros: env.X402_TOPUP_MICROS, maxMicros: env.X402_MAX_MICROS },
    notifications: {
      smtpUrl: env.SMTP_URL,
      mailFrom:
        env.SMTP_FROM ??
        `${env.PRODUCT_NAME} <notices@${mailDomain(new URL(publicBaseUrl).hostname)}>`,
      key: env.NOTIFY_KEY ?? new Secret(developmentNotifyKey),
      operatorOrgId: env.OPERATOR_ORG_ID,
      operatorEthLowWei: env.OPERATOR_ETH_LOW_WEI,
    },
    /** The operator's bearer token for `/v1/operator/*` (refunds); unset: those routes are closed. */
    operatorApiToken: env.OPERATOR_API_TOKEN,
    /** Signs manage links and sessions; unset: a key generated in `dataDir` (src/web/session.ts). */
    manageTokenSecret: env.MANAGE_TOKEN_SECRET,
    rateCard,
  }
}

/** The notify key outside production when none is set: fine on a laptop, refused in production. */
const developmentNotifyKey = 'tollgate-development-notify-key-not-for-production'

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret)) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/**
 * Parses the environment and the rate card once, at start-up. Bad config throws a
 * `ConfigError` naming each field and the reason, so a process never starts half-configured.
 *
 * @example
 * const config = loadConfig({ ...process.env, PORT: '4100' })
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema
    .refine((e) => e.NODE_ENV !== 'production' || e.NOTIFY_KEY !== undefined, {
      path: ['NOTIFY_KEY'],
      message: 'required in production (seals webhook secrets, signs unsubscribe links)',
    })
    .safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`, {
      issues: parsed.error.issues,
    })
  }
  if (parsed.data.X402_MAX_MICROS < parsed.data.X402_TOPUP_MICROS)
    throw new ConfigError(
      'invalid configuration:\n  X402_MAX_MICROS: must be at least X402_TOPUP_MICROS',
    )
  let rateCard: RateCard
  try {
    rateCard = parseRateCard(JSON.parse(readFileSync(parsed.data.RATE_CARD_PATH, 'utf8')))
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ConfigError(`invalid configuration:\n  RATE_CARD_PATH: ${reason}`)
  }
  return deepFreeze(buildConfig(parsed.data, rateCard))
}
