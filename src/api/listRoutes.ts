import type { Express } from 'express'

type Layer = {
  rawPath?: string | RegExp | (string | RegExp)[]
  route?: { path: string | string[]; methods: Record<string, boolean> }
  handle?: { stack?: Layer[] }
}

const join = (prefix: string, path: string) =>
  `${prefix}${path === '/' ? '' : path}`.replace(/\/+/g, '/') || '/'

/**
 * Every `METHOD /path` an express 5 app routes, read from its router stack (sub-routers
 * included, `:param` written `{param}` as in OpenAPI): what the app really serves, for the
 * test that holds `/openapi.json` to it. Middleware that answers without a route is not listed.
 */
export function listRoutes(app: Express): string[] {
  const out = new Set<string>()
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      const raw = layer.rawPath ?? '/'
      const paths = (Array.isArray(raw) ? raw : [raw]).map((p) =>
        typeof p === 'string' ? p : `/<regexp ${p.source}>`,
      )
      for (const p of paths) {
        const at = join(prefix, p)
        if (layer.route) {
          for (const [method, on] of Object.entries(layer.route.methods))
            if (on && method !== '_all')
              out.add(`${method.toUpperCase()} ${at.replace(/:(\w+)/g, '{$1}')}`)
        } else if (Array.isArray(layer.handle?.stack)) walk(layer.handle.stack, at)
      }
    }
  }
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '')
  return [...out].sort()
}
