/** @jsxImportSource hono/jsx */
/**
 * @module The rule editor's condition builder: all / any / not groups, nested up to the rule
 * model's depth, and each condition picked from the facts a rule can test, with the operators
 * and value inputs that fact takes. Its buttons post the form back to be drawn again.
 */
import type { Child } from 'hono/jsx'
import { EVENT_TYPES } from '../../streams/events'
import { OPERATORS, PROFILE_FACTS, RECENT_FIELDS, RULE_LIMITS, WEEKDAYS } from '../../streams/rules'
import { type Draft, getAt, textAt } from '../rule-form'
import { ActionButton, type Ctx, Err, fieldId, Select, Text } from './rule-editor-fields'

const OP_LABELS: Record<string, string> = {
  eq: 'is',
  ne: 'is not',
  gt: 'more than',
  gte: 'at least',
  lt: 'less than',
  lte: 'at most',
  in: 'is one of',
  contains: 'contains',
  startsWith: 'starts with',
  exists: 'is set',
  matches: 'matches (* = any text)',
}

const NUMERIC_OPS = ['gte', 'gt', 'eq', 'ne', 'lte', 'lt']

const KIND_LABELS: Record<string, string> = {
  count: 'Count of recent events',
  event: 'Property of the triggering event',
  profile: 'Shopper profile',
  page: 'Page address',
  time: 'Time of day / days',
  all: 'Group: all of these',
  any: 'Group: any of these',
  not: 'Group: not this',
}

const FACT_LABELS: Record<string, string> = {
  engagement: 'engagement score',
  purchases: 'purchases',
  events: 'number of events',
  interest: 'interest in a category',
  daysSinceFirstSeen: 'days since first seen',
  minutesSinceLastSeen: 'minutes since last seen',
  returning: 'returning shopper',
}

const FIELD_LABELS: Record<string, string> = {
  item: 'product id',
  category: 'category',
  price: 'price',
  url: 'page address',
  name: 'name',
}

/** The id of the input for a rule path. */
function KindSelect(props: {
  ctx: Ctx
  path: string
  kinds: readonly string[]
  label: string
  node: string
}) {
  return (
    <div class="row">
      <Select
        ctx={props.ctx}
        path={`${props.path}.kind`}
        label={props.label}
        options={props.kinds}
        labels={KIND_LABELS}
        refresh
      />
      <span class="js-hide field">
        <ActionButton ctx={props.ctx} action="refresh">
          Update<span class="sr-only"> {props.node.toLowerCase()}</span>
        </ActionButton>
      </span>
    </div>
  )
}

function ConditionFields(props: { ctx: Ctx; path: string; node: Draft }) {
  const { ctx, path, node } = props
  const kind = textAt(node, 'kind')
  if (kind === 'count') {
    const where = Array.isArray(node.where) ? (node.where as Draft[]) : []
    return (
      <>
        <Select
          ctx={ctx}
          path={`${path}.event`}
          label="Event"
          options={EVENT_TYPES}
          hint="Counted among the shopper's last 50 events; the triggering event counts too."
        />
        {where.map((_, i) => {
          const p = `${path}.where.${i}`
          return (
            <fieldset class="cond">
              <legend>Only events whose…</legend>
              <div class="row">
                <Select
                  ctx={ctx}
                  path={`${p}.field`}
                  label="Property"
                  options={RECENT_FIELDS}
                  labels={FIELD_LABELS}
                />
                <Select
                  ctx={ctx}
                  path={`${p}.op`}
                  label="Operator"
                  options={OPERATORS}
                  labels={OP_LABELS}
                />
                <Text ctx={ctx} path={`${p}.value`} label="Value" />
              </div>
              <Err ctx={ctx} path={p} />
              <ActionButton ctx={ctx} action={`remove-where:${p}`} danger>
                Remove filter
              </ActionButton>
            </fieldset>
          )
        })}
        <Err ctx={ctx} path={`${path}.where`} />
        {where.length < 5 && (
          <div class="actions">
            <ActionButton ctx={ctx} action={`add-where:${path}`}>
              Add a filter (category, price…)
            </ActionButton>
          </div>
        )}
        <div class="row">
          <Select
            ctx={ctx}
            path={`${path}.op`}
            label="How many"
            options={NUMERIC_OPS}
            labels={OP_LABELS}
          />
          <Text ctx={ctx} path={`${path}.value`} label="Number" type="number" min={0} />
          <Text
            ctx={ctx}
            path={`${path}.within`}
            label="Within"
            hint='"10m", "2h", "7d" or "today"'
          />
        </div>
      </>
    )
  }
  if (kind === 'event') {
    return (
      <div class="row">
        <Text
          ctx={ctx}
          path={`${path}.field`}
          label="Property"
          hint="e.g. price, category, productId"
        />
        <Select
          ctx={ctx}
          path={`${path}.op`}
          label="Operator"
          options={OPERATORS}
          labels={OP_LABELS}
        />
        <Text
          ctx={ctx}
          path={`${path}.value`}
          label="Value"
          hint="For “is one of”, separate with commas."
        />
      </div>
    )
  }
  if (kind === 'profile') {
    const fact = textAt(node, 'fact')
    return (
      <div class="row">
        <Select
          ctx={ctx}
          path={`${path}.fact`}
          label="Fact"
          options={PROFILE_FACTS}
          labels={FACT_LABELS}
          refresh
        />
        {fact === 'interest' && <Text ctx={ctx} path={`${path}.category`} label="Category" />}
        {fact === 'events' && (
          <Select
            ctx={ctx}
            path={`${path}.eventType`}
            label="Of type"
            options={EVENT_TYPES}
            empty="any event"
          />
        )}
        {fact === 'returning' ? (
          <>
            <Select
              ctx={ctx}
              path={`${path}.op`}
              label="Operator"
              options={['eq', 'ne']}
              labels={OP_LABELS}
            />
            <Select
              ctx={ctx}
              path={`${path}.value`}
              label="Value"
              options={['true', 'false']}
              labels={{ true: 'yes', false: 'no' }}
            />
          </>
        ) : (
          <>
            <Select
              ctx={ctx}
              path={`${path}.op`}
              label="Operator"
              options={NUMERIC_OPS}
              labels={OP_LABELS}
            />
            <Text ctx={ctx} path={`${path}.value`} label="Number" type="number" />
          </>
        )}
      </div>
    )
  }
  if (kind === 'page') {
    return (
      <div class="row">
        <Select
          ctx={ctx}
          path={`${path}.op`}
          label="Page path"
          options={['startsWith', 'eq', 'contains', 'matches']}
          labels={OP_LABELS}
        />
        <Text ctx={ctx} path={`${path}.value`} label="Path" placeholder="/products/" />
      </div>
    )
  }
  if (kind === 'time') {
    const days = getAt(node, 'days')
    const checked = new Set(Array.isArray(days) ? (days as string[]) : [])
    return (
      <>
        <div class="row">
          <Text
            ctx={ctx}
            path={`${path}.hours.from`}
            label="From hour"
            type="number"
            min={0}
            max={23}
            hint="0–23, site time"
          />
          <Text
            ctx={ctx}
            path={`${path}.hours.to`}
            label="To hour"
            type="number"
            min={0}
            max={24}
            hint="exclusive; before “from” wraps past midnight"
          />
        </div>
        <fieldset class="cond">
          <legend>On days</legend>
          <div class="days">
            {WEEKDAYS.map((d) => (
              <label>
                <input type="checkbox" name={`${path}.days`} value={d} checked={checked.has(d)} />
                {d}
              </label>
            ))}
          </div>
          <Err ctx={ctx} path={`${path}.days`} />
        </fieldset>
      </>
    )
  }
  return null
}

export function ConditionNode(props: {
  ctx: Ctx
  path: string
  label: string
  depth: number
  removable: boolean
}): Child {
  const { ctx, path, depth } = props
  const node = (getAt(ctx.draft, path) ?? {}) as Draft
  const kind = textAt(node, 'kind')
  const isGroup = kind === 'all' || kind === 'any' || kind === 'not'
  const kinds = depth === 0 ? ['all', 'any'] : Object.keys(KIND_LABELS)
  const children = Array.isArray(node.conditions) ? (node.conditions as Draft[]) : []
  return (
    <fieldset class={isGroup ? 'cond group' : 'cond'} id={`${fieldId(path)}-node`}>
      <legend>{props.label}</legend>
      <KindSelect
        ctx={ctx}
        path={path}
        kinds={kinds}
        label={depth === 0 ? 'Match' : 'Kind'}
        node={props.label}
      />
      <Err ctx={ctx} path={path} />
      {!isGroup && <ConditionFields ctx={ctx} path={path} node={node} />}
      {kind === 'not' && (
        <ConditionNode
          ctx={ctx}
          path={`${path}.condition`}
          label="Passes when this does not"
          depth={depth + 1}
          removable={false}
        />
      )}
      {(kind === 'all' || kind === 'any') && (
        <>
          {children.length === 0 && (
            <p class="hint">
              {depth === 0
                ? 'No conditions: every shopper who triggers the rule qualifies.'
                : 'An empty group.'}
            </p>
          )}
          {children.map((_, i) => (
            <ConditionNode
              ctx={ctx}
              path={`${path}.conditions.${i}`}
              label={`Condition ${i + 1}`}
              depth={depth + 1}
              removable
            />
          ))}
          <Err ctx={ctx} path={`${path}.conditions`} />
          {children.length < RULE_LIMITS.groupItems && (
            <div class="actions">
              <ActionButton ctx={ctx} action={`add:${path}:count`}>
                Add condition<span class="sr-only"> to {props.label.toLowerCase()}</span>
              </ActionButton>
              {depth < RULE_LIMITS.depth - 1 && (
                <ActionButton ctx={ctx} action={`add:${path}:all`}>
                  Add group<span class="sr-only"> to {props.label.toLowerCase()}</span>
                </ActionButton>
              )}
            </div>
          )}
        </>
      )}
      {props.removable && (
        <div class="actions">
          <ActionButton ctx={ctx} action={`remove:${path}`} danger>
            Remove {props.label.toLowerCase()}
          </ActionButton>
        </div>
      )}
    </fieldset>
  )
}
