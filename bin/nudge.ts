/**
 * @module The `nudge` command. `nudge start` runs every role that exists so far in one
 * process (newcomers, the demo); `nudge start --role api` runs one role (operators scale each
 * role on its own); `nudge sites …` manages sites. Only wiring lives here.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Queue } from 'bullmq'
import { demoRules } from '../api/demo/rules'
import { startApi } from '../api/main'
import { createDb } from '../drizzle/client'
import { createRule } from '../drizzle/queries/rules'
import { ensureDemoSite, findEventWeights, findSite } from '../drizzle/queries/sites'
import { createStaff } from '../drizzle/queries/staff'
import { createGateway } from '../gateway/gateway'
import { startGateway } from '../gateway/main'
import { type Config, ConfigError, loadConfig } from '../runtime/config'
import { serveHealth } from '../runtime/health-server'
import { createLogger } from '../runtime/logger'
import { createMetrics } from '../runtime/metrics'
import { hashPassword } from '../runtime/passwords'
import { createBlockingRedis, createRedis, type Redis, waitReady } from '../runtime/redis'
import { ensureRedis } from '../runtime/redis-server'
import { createSecretBox } from '../runtime/secret-box'
import { loadServerKeys } from '../runtime/secret-key'
import { onShutdown, type ShutdownStep } from '../runtime/shutdown'
import { startTelemetry } from '../runtime/telemetry'
import { createKeys } from '../streams/keys'
import { ruleInput } from '../streams/rules'
import { bullPrefix, createEventsPipeline, startWorkers } from '../workers/main'
import { runImportCommand } from './import'
import { runJobsCommand } from './jobs'
import { runReplayCommand } from './replay'
import { runRulesCommand } from './rules'
import { runSitesCommand } from './sites'
import { runStaffCommand } from './staff'

const USAGE = `Usage:
  nudge start [--role all|api|gateway|workers]
                                  run Nudge (default: every role in one process on one port, with the demo site)
  nudge sites <command> …         manage sites (nudge sites help)
  nudge jobs <command> …          list and retry failed events jobs (nudge jobs help)
  nudge staff <command> …         console accounts and API tokens (nudge staff help)
  nudge rules export|import …     move offer rules between environments (nudge rules help)
  nudge replay --from <time|id> [--to <time|id>] --into <prefix>
                                  rebuild profiles and recommendations from the log (nudge replay --help)
  nudge import <file> --url <api> --key <key> [--format csv|jsonl]
                                  backfill history through the api (nudge import --help)`

const ROLES = ['all', 'api', 'gateway', 'workers'] as const

function openDatabase(config: Config) {
  return createDb({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.NUDGE_DATA_DIR,
    schema: config.DATABASE_SCHEMA,
  })
}

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { role: { type: 'string', default: 'all' } },
  })
  const role = values.role as (typeof ROLES)[number]
  if (!ROLES.includes(role)) {
    throw new UsageError(`--role must be one of ${ROLES.join(', ')}; got "${values.role}"`)
  }
  const config = loadConfig(process.env)
  const logger = createLogger({ level: config.LOG_LEVEL, role })
  const say = (line: string) => logger.info(line)
  const telemetry = await startTelemetry(config, role, logger)
  if (telemetry.enabled) {
    say(`Tracing: exporting spans as ${telemetry.serviceName} to ${telemetry.url}`)
  }

  const local = config.REDIS_URL
    ? { url: config.REDIS_URL, stop: async () => {} }
    : await ensureRedis(config.NUDGE_DATA_DIR, say)
  const redis = createRedis(local.url, {
    commandTimeoutMs: config.NUDGE_REDIS_TIMEOUT,
    name: `nudge-${role}`,
  })
  await waitReady(redis, 5_000)

  if (!config.DATABASE_URL && !existsSync(join(config.NUDGE_DATA_DIR, 'pglite'))) {
    say(`First start: creating the embedded database under ${config.NUDGE_DATA_DIR}/ (about 30 s)`)
  }
  const database = await openDatabase(config)
  say(
    `Database: ${database.kind === 'pglite' ? `embedded PGlite under ${config.NUDGE_DATA_DIR}/` : 'PostgreSQL'}, migrated`,
  )

  const serverKeys = loadServerKeys({
    configured: config.NUDGE_SECRET_KEY,
    dataDir: config.NUDGE_DATA_DIR,
    say,
  })
  if (role === 'all' && config.NUDGE_DEMO) {
    const demo = await ensureDemoSite(database.db, {
      writeKey: config.NUDGE_DEMO_WRITE_KEY,
      secret: config.NUDGE_DEMO_SECRET,
      box: createSecretBox(serverKeys.seal),
    })
    if (demo.created) {
      say(`Demo site created. Write key: ${demo.writeKey}  Secret (shown once): ${demo.secret}`)
      // A few active rules, so /demo shows offers within seconds of browsing.
      const base = config.NUDGE_PUBLIC_URL ?? `http://localhost:${config.PORT}`
      for (const spec of demoRules(base)) {
        await createRule(database.db, {
          siteId: demo.site.id,
          spec: ruleInput.parse(spec),
          status: 'active',
          actor: 'nudge start (demo)',
        })
      }
      // An admin for the console, so a newcomer can edit those rules at once.
      const password = config.NUDGE_DEMO_PASSWORD ?? randomBytes(9).toString('base64url')
      await createStaff(database.db, {
        siteId: demo.site.id,
        email: DEMO_STAFF_EMAIL,
        passwordHash: await hashPassword(password),
        role: 'admin',
      })
      say(
        `Console: http://localhost:${config.PORT}/console  Sign in as ${DEMO_STAFF_EMAIL}, password (shown once): ${password}`,
      )
    }
    say(`Demo store: http://localhost:${config.PORT}/demo`)
  }

  const metrics = createMetrics({ defaults: true })
  const steps: ShutdownStep[] = []
  let port: number
  // The gateway's own connections: one for inbox reads and acks, one parked in SUBSCRIBE.
  const live =
    role === 'all' || role === 'gateway'
      ? {
          redis: createRedis(local.url, {
            commandTimeoutMs: config.NUDGE_REDIS_TIMEOUT,
            name: 'nudge-gateway',
          }),
          subscriber: createBlockingRedis(local.url, 'nudge-gateway-sub'),
          tokenKey: serverKeys.token,
          lookupSite: (siteId: string) => findSite(database.db, siteId),
        }
      : undefined
  if (live) {
    live.redis.on('error', (err) => logger.warn({ err: err.message }, 'gateway redis error'))
    await waitReady(live.redis, 5_000)
  }
  if (role === 'all' || role === 'api') {
    const api = await startApi({
      config,
      logger,
      metrics,
      redis,
      db: database.db,
      serverKeys,
      readiness: { database: () => database.ping() },
    })
    port = api.port
    if (live) {
      // One port for everything: WebSocket upgrades to the api's server go to the gateway.
      const gateway = createGateway({ config, logger, metrics, ...live })
      api.server.on('upgrade', gateway.handleUpgrade)
      steps.push(['gateway', () => gateway.close()])
    }
    steps.push(['http', () => api.close()])
  } else if (live) {
    const gateway = await startGateway({
      config,
      logger,
      metrics,
      ...live,
      port: config.PORT,
      host: config.HOST,
      readiness: { database: () => database.ping() },
    })
    port = gateway.port
    steps.push(['gateway', () => gateway.close()])
  } else {
    const health = await serveHealth({
      port: config.PORT,
      host: config.HOST,
      registry: metrics.registry,
      checks: { redis: () => redis.ping(), database: () => database.ping() },
    })
    port = health.port
    steps.push(['http', () => health.close()])
  }
  if (role === 'all' || role === 'workers') {
    const workers = await startWorkers({
      config,
      logger,
      redis,
      redisUrl: local.url,
      db: database.db,
      metrics,
    })
    steps.push(['workers', () => workers.close()])
  }
  say(
    `Nudge ${role} listening on http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`,
  )

  onShutdown(logger, [
    ...steps,
    ['redis', () => redis.quit()],
    ['gateway-redis', () => live?.redis.quit()],
    ['database', () => database.close()],
    ['redis-server', () => local.stop()],
    // Last, so the spans of the requests and jobs that finished while stopping are sent too.
    ['telemetry', () => telemetry.shutdown()],
  ])
}

class UsageError extends Error {}

/** The console account `nudge start` makes with the demo site. */
const DEMO_STAFF_EMAIL = 'demo@nudge.local'

/** NUDGE_STAFF_PASSWORD, else the first line of stdin (so it never sits in `ps` or history). */
async function readPassword(): Promise<string> {
  if (process.env.NUDGE_STAFF_PASSWORD) {
    return process.env.NUDGE_STAFF_PASSWORD
  }
  if (process.stdin.isTTY) {
    process.stderr.write('Password: ')
  }
  let text = ''
  for await (const chunk of process.stdin) {
    text += chunk
    if (text.includes('\n')) {
      break
    }
  }
  return text.split('\n')[0]?.trim() ?? ''
}

async function main(argv: string[]): Promise<number> {
  const [command = 'start', ...rest] = argv
  if (command === 'start') {
    await start(rest)
    return -1
  }
  if (command === 'sites') {
    const config = loadConfig(process.env)
    const database = await openDatabase(config)
    try {
      const keys = loadServerKeys({
        configured: config.NUDGE_SECRET_KEY,
        dataDir: config.NUDGE_DATA_DIR,
      })
      return await runSitesCommand(rest, {
        db: database.db,
        out: (line) => console.log(line),
        box: createSecretBox(keys.seal),
      })
    } finally {
      await database.close()
    }
  }
  if (command === 'staff' || command === 'rules') {
    const config = loadConfig(process.env)
    const database = await openDatabase(config)
    const out = (line: string) => console.log(line)
    try {
      if (command === 'staff') {
        return await runStaffCommand(rest, {
          db: database.db,
          out,
          readPassword,
          note: (line) => console.error(line),
        })
      }
      return await runRulesCommand(rest, {
        db: database.db,
        out,
        announce: async (siteId) => {
          const redis = createRedis(config.REDIS_URL ?? 'redis://127.0.0.1:6379', {
            commandTimeoutMs: 2_000,
            name: 'nudge-cli',
          })
          try {
            await waitReady(redis, 2_000)
            await redis.publish(createKeys(config.NUDGE_KEY_PREFIX).rulesChanged(), siteId)
          } catch {
            out(
              'Could not reach Redis to tell running workers; they load the rules when they next start.',
            )
          } finally {
            redis.disconnect()
          }
        },
      })
    } finally {
      await database.close()
    }
  }
  if (command === 'replay' || command === 'import') {
    const abort = new AbortController()
    process.once('SIGINT', () => abort.abort())
    process.once('SIGTERM', () => abort.abort())
    const out = (line: string) => console.log(line)
    if (command === 'import') {
      return runImportCommand(rest, { out, progress: process.stderr, signal: abort.signal })
    }
    const config = loadConfig(process.env)
    let redis: Redis | undefined
    // Replay applies each site's own weight overrides, as the live workers do.
    const database = await openDatabase(config)
    try {
      return await runReplayCommand(rest, {
        connect: async () => {
          redis = createRedis(config.REDIS_URL ?? 'redis://127.0.0.1:6379', {
            commandTimeoutMs: 30_000,
            name: 'nudge-replay',
          })
          await waitReady(redis, 5_000)
          return redis
        },
        config,
        processorFor: (client, keys) =>
          createEventsPipeline({
            config,
            redis: client,
            keys,
            eventWeights: (siteId) => findEventWeights(database.db, siteId),
          }),
        out,
        progress: process.stderr,
        signal: abort.signal,
      })
    } finally {
      redis?.disconnect()
      await database.close()
    }
  }
  if (command === 'jobs') {
    const config = loadConfig(process.env)
    const connection = createBlockingRedis(
      config.REDIS_URL ?? 'redis://127.0.0.1:6379',
      'nudge-cli',
    )
    let queue: Queue | undefined
    const open = (name: string) => {
      queue = new Queue(name, { connection, prefix: bullPrefix(config) })
      return queue
    }
    try {
      return await runJobsCommand(rest, { open, out: (line) => console.log(line) })
    } finally {
      await queue?.close()
      connection.disconnect()
    }
  }
  if (command === 'help' || command === '--help') {
    console.log(USAGE)
    return 0
  }
  throw new UsageError(`Unknown command "${command}".`)
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) {
      process.exit(code)
    }
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(err.message)
      process.exit(1)
    }
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${USAGE}`)
      process.exit(2)
    }
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  },
)
