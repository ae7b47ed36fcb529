/**
 * @module The server's master key (NUDGE_SECRET_KEY) and the keys derived from it.
 *
 * Every process of one install must share the master key: the api signs identity tokens that
 * the gateway and other api processes verify, and site secrets sealed by `nudge sites` are
 * opened by the api. When the variable is unset, the key is generated once and kept in
 * `${NUDGE_DATA_DIR}/secret.key` (mode 0600), which serves a single machine; several machines
 * or containers must set NUDGE_SECRET_KEY to one value.
 *
 * Purposes never share a key: each is derived with HKDF-SHA256 under its own `info` label, so a
 * token key leaked through a bug cannot open sealed secrets and vice versa.
 */
import { hkdfSync, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The derived keys; the master key itself is dropped once these exist. */
export type ServerKeys = {
  /** HS256 key for identity tokens (streams/live-token.ts). */
  token: Uint8Array
  /** AES-256-GCM key for site secrets at rest (runtime/secret-box.ts). */
  seal: Buffer
}

const MASTER_BYTES = 32

/**
 * Derives the per-purpose keys. Changing a label makes every token and sealed secret unreadable:
 * the labels are part of the storage format.
 * @example const keys = deriveServerKeys(config.NUDGE_SECRET_KEY)
 */
export function deriveServerKeys(master: Uint8Array): ServerKeys {
  const derive = (info: string) =>
    Buffer.from(hkdfSync('sha256', master, 'nudge', info, 32) as ArrayBuffer)
  return {
    token: new Uint8Array(derive('nudge identity token v1')),
    seal: derive('nudge site secret seal v1'),
  }
}

/**
 * The master key from the environment, else from `${dataDir}/secret.key`, made there on first use.
 * Processes starting together on one machine agree: the file is created exclusively, and a
 * process that loses the race reads the winner's key.
 * @example const keys = loadServerKeys({ configured: config.NUDGE_SECRET_KEY, dataDir: config.NUDGE_DATA_DIR })
 */
export function loadServerKeys(opts: {
  configured: Uint8Array | undefined
  dataDir: string
  say?: (line: string) => void
}): ServerKeys {
  if (opts.configured) {
    return deriveServerKeys(opts.configured)
  }
  const file = join(opts.dataDir, 'secret.key')
  const existing = readKeyFile(file)
  if (existing) {
    return deriveServerKeys(existing)
  }
  mkdirSync(opts.dataDir, { recursive: true })
  try {
    writeFileSync(file, `${randomBytes(MASTER_BYTES).toString('base64')}\n`, {
      mode: 0o600,
      flag: 'wx',
    })
    opts.say?.(
      `Generated the server key in ${file}; set NUDGE_SECRET_KEY when running more than one machine`,
    )
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw err
    }
  }
  const made = readKeyFile(file)
  if (!made) {
    throw new Error(
      `${file} does not hold a base64 key of ${MASTER_BYTES}+ bytes; delete it or set NUDGE_SECRET_KEY`,
    )
  }
  return deriveServerKeys(made)
}

/** Keys that live only as long as this process: for tests and benchmarks, never for a deployment. */
export function ephemeralServerKeys(): ServerKeys {
  return deriveServerKeys(randomBytes(MASTER_BYTES))
}

function readKeyFile(file: string): Buffer | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined
    }
    throw err
  }
  const key = Buffer.from(text.trim(), 'base64')
  // A half-written file (a process killed mid-write) is shorter: treat it as unusable, not as a key.
  return key.length >= MASTER_BYTES ? key : undefined
}
