#!/usr/bin/env node
// The `nudge` command for npx: loads the TypeScript entry through tsx (no build step).
import { register } from 'tsx/esm/api'

register()
await import('./nudge.ts')
