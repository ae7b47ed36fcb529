/**
 * @module Where an import got to: a small JSON file, by default beside the input, rewritten
 * after every batch the api acknowledged. It is tied to one file (by a fingerprint of its start,
 * so appending to the file keeps it valid) and to one api and key (by a hash, never the key).
 */
import { createHash } from 'node:crypto'
import { open, readFile, rename, writeFile } from 'node:fs/promises'
import type { ImportFormat } from './import-lines'

/** The place to resume from and the figures so far. */
export type Checkpoint = {
  version: 1
  format: ImportFormat
  /** SHA-256 of the file's first `fingerprintBytes`: a resumed file must start the same. */
  fingerprint: string
  fingerprintBytes: number
  /** Hash of the endpoint and key, so a checkpoint is never reused for another site or api. */
  target: string
  /** Byte offset and number of the last line handled (sent and acknowledged, or rejected). */
  offset: number
  line: number
  done: boolean
  counts: { accepted: number; duplicates: number; rejected: number }
}

/** What a checkpoint is matched against. */
export type CheckpointFor = {
  path: string
  file: string
  size: number
  format: ImportFormat
  endpoint: string
  key: string
}

/** A checkpoint that belongs to another import: the message says which and what to do. */
export class CheckpointMismatch extends Error {}

const FINGERPRINT_BYTES = 64 * 1024

/**
 * The saved place to resume from, or a fresh start when there is no checkpoint yet. Throws
 * CheckpointMismatch for a checkpoint of another file, format, api or key.
 * @example const checkpoint = await loadCheckpoint({ path: 'a.csv.nudge-import.json', file: 'a.csv', size, format: 'csv', endpoint, key })
 */
export async function loadCheckpoint(at: CheckpointFor): Promise<Checkpoint> {
  const target = createHash('sha256').update(`${at.endpoint}\n${at.key}`).digest('hex').slice(0, 16)
  let saved: Checkpoint | undefined
  try {
    saved = JSON.parse(await readFile(at.path, 'utf8')) as Checkpoint
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CheckpointMismatch(
        `cannot read the checkpoint ${at.path} (${(err as Error).message}); delete it to start over`,
      )
    }
  }
  if (saved === undefined) {
    const fingerprintBytes = Math.min(at.size, FINGERPRINT_BYTES)
    return {
      version: 1,
      format: at.format,
      fingerprint: await fingerprintOf(at.file, fingerprintBytes),
      fingerprintBytes,
      target,
      offset: 0,
      line: 0,
      done: false,
      counts: { accepted: 0, duplicates: 0, rejected: 0 },
    }
  }
  const sameFile =
    saved.version === 1 &&
    saved.format === at.format &&
    saved.offset <= at.size &&
    saved.fingerprintBytes <= at.size &&
    (await fingerprintOf(at.file, saved.fingerprintBytes)) === saved.fingerprint
  if (!sameFile || saved.target !== target) {
    const whose = sameFile
      ? 'an import to another api or with another key'
      : 'another file or format'
    throw new CheckpointMismatch(
      `the checkpoint ${at.path} belongs to ${whose}; delete it to start over, or pass --checkpoint <new file>`,
    )
  }
  return saved
}

/**
 * Saves a checkpoint: written beside and renamed over, so a crash mid-write leaves the previous
 * checkpoint whole.
 * @example await saveCheckpoint('a.csv.nudge-import.json', { ...checkpoint, offset, line })
 */
export async function saveCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await writeFile(`${path}.tmp`, `${JSON.stringify(checkpoint, null, 2)}\n`)
  await rename(`${path}.tmp`, path)
}

async function fingerprintOf(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(bytes)
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0)
    return createHash('sha256').update(buffer.subarray(0, bytesRead)).digest('hex')
  } finally {
    await handle.close()
  }
}
