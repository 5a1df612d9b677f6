import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Router } from 'express'

const clientDir = join(dirname(fileURLToPath(import.meta.url)), 'client')
const require = createRequire(import.meta.url)

let bundles: Promise<Map<string, string>> | undefined

/**
 * The pages' scripts: TypeScript under src/web/client/, bundled by esbuild with what they import
 * from node_modules (uPlot, viem's SIWE helpers) into one ES module per page. Built once per
 * process, on first use, in memory: nothing is written, nothing comes from a CDN.
 */
function clientBundles(): Promise<Map<string, string>> {
  bundles ??= build({
    entryPoints: ['manage', 'dashboard'].map((n) => join(clientDir, `${n}.ts`)),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    outdir: 'assets',
    logLevel: 'silent',
  }).then((r) => new Map(r.outputFiles.map((f) => [basename(f.path), f.text])))
  return bundles
}

const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1d4ed8"/><path d="M7 11h18M16 11v14" stroke="#fff" stroke-width="4" stroke-linecap="round"/></svg>`

/** `/assets/*`: page scripts, the stylesheet, uPlot's stylesheet and the favicon. */
export function assetsRouter(): Router {
  const r = Router()
  // Start bundling at start-up, so the first page view does not wait for it.
  clientBundles().catch(() => undefined)
  const style = readFileSync(join(clientDir, 'style.css'), 'utf8')
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8')
  r.get('/style.css', (_req, res) => void res.type('text/css').send(style))
  r.get('/uplot.css', (_req, res) => void res.type('text/css').send(uplotCss))
  r.get('/favicon.svg', (_req, res) => void res.type('image/svg+xml').send(favicon))
  r.get('/:name.js', async (req, res, next) => {
    const js = (await clientBundles()).get(`${req.params.name}.js`)
    if (js === undefined) return next()
    res.type('application/javascript').send(js)
  })
  return r
}
