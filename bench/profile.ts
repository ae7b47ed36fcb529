/**
 * @module Reads a V8 `.cpuprofile` into the views that say where an api process spends its CPU:
 * self time per package or project file (so "zod", "ioredis" or "api/ingest.ts" can be
 * weighed against each other at a glance), self time per function, and total time per function.
 */
import { readFileSync } from 'node:fs'

type CallFrame = { functionName: string; url: string; lineNumber: number }
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] }
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Time in ms, largest first: self time per function and module, total time per function. */
export type ProfileSummary = {
  totalMs: number
  functions: { name: string; ms: number }[]
  modules: { name: string; ms: number }[]
  /** Time with a function anywhere on the stack, counted once per sample. */
  inclusive: { name: string; ms: number }[]
}

/** `node_modules/zod/…` → `zod`, a project file → its path from the repo, else the url. */
function moduleOf(url: string, root: string): string {
  if (url === '') {
    return '(native / idle / gc)'
  }
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
  if (inModules?.[1]) {
    return inModules[1]
  }
  if (path.startsWith(root)) {
    return path.slice(root.length)
  }
  return path.startsWith('node:') ? 'node (built-in)' : path
}

/**
 * @example const summary = summariseProfile('/tmp/prof/CPU.….cpuprofile', '/work/main/')
 */
export function summariseProfile(file: string, root: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) {
      parentOf.set(child, node.id)
    }
  }
  const nameOf = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame
    return `${functionName || '(anonymous)'} ${moduleOf(url, root)}${url ? `:${lineNumber + 1}` : ''}`
  }
  const functions = new Map<string, number>()
  const modules = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let totalMs = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] ?? -1)
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    if (!node) {
      continue
    }
    totalMs += ms
    const name = nameOf(node)
    const module = moduleOf(node.callFrame.url, root)
    functions.set(name, (functions.get(name) ?? 0) + ms)
    modules.set(module, (modules.get(module) ?? 0) + ms)
    const onStack = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) {
      const frame = byId.get(id)
      if (frame && frame.callFrame.functionName !== '(root)') {
        onStack.add(nameOf(frame))
      }
    }
    for (const frame of onStack) {
      inclusive.set(frame, (inclusive.get(frame) ?? 0) + ms)
    }
  }
  const ranked = (m: Map<string, number>) =>
    [...m]
      .map(([name, ms]) => ({ name, ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
  return {
    totalMs,
    functions: ranked(functions),
    modules: ranked(modules),
    inclusive: ranked(inclusive),
  }
}
