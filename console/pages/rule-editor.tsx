/** @jsxImportSource hono/jsx */
/**
 * @module The rule editor (new and existing rules): one form for every part of the rule model,
 * with a condition builder (all / any / not groups, nested up to the model's depth; each
 * condition picked from the facts a rule can test, with the operators and value inputs that fact
 * takes) and a live preview of the offer's toast.
 *
 * Inputs are named by their path in the rule (see rule-form.ts), so each of the API's
 * `issues[].field` is shown under its own input and listed, linked, at the top. The builder's
 * buttons post the form back to be drawn again (the script does it in place), so the form works
 * without the script and never loses what was typed.
 */
import type { Child } from 'hono/jsx'
import { EVENT_TYPES } from '../../streams/events'
import {
  OPERATORS,
  PROFILE_FACTS,
  RECENT_FIELDS,
  RECOMMENDATION_SOURCES,
  RULE_LIMITS,
  WEEKDAYS,
} from '../../streams/rules'
import type { ApiResult, PreviewView, RuleView, StaffView } from '../admin-client'
import { formatTime } from '../format'
import { Layout, type Notice, StatusBadge } from '../layout'
import { labelOf } from '../rule-diff'
import { type Draft, getAt, textAt } from '../rule-form'
import { StatusAction } from './rules-list'

/** Issues of the last save, by field path, in the API's words. */
export type Issues = Map<string, string[]>

type Ctx = { draft: Draft; issues: Issues; focus?: string; readOnly: boolean }

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
export function fieldId(path: string): string {
  return `f-${path.replace(/\./g, '-')}`
}

function Err(props: { ctx: Ctx; path: string }) {
  const messages = props.ctx.issues.get(props.path)
  return messages ? (
    <p class="error" id={`${fieldId(props.path)}-error`}>
      {messages.join(' ')}
    </p>
  ) : null
}

function aria(ctx: Ctx, path: string, hint?: string) {
  const invalid = ctx.issues.has(path)
  const ids = [hint && `${fieldId(path)}-hint`, invalid && `${fieldId(path)}-error`].filter(Boolean)
  return {
    id: fieldId(path),
    name: path,
    'aria-invalid': invalid ? 'true' : undefined,
    'aria-describedby': ids.length > 0 ? ids.join(' ') : undefined,
    autofocus: ctx.focus === path ? true : undefined,
  }
}

function Field(props: { ctx: Ctx; path: string; label: string; hint?: string; children: Child }) {
  return (
    <div class="field">
      <label for={fieldId(props.path)}>{props.label}</label>
      {props.children}
      {props.hint && (
        <p class="hint" id={`${fieldId(props.path)}-hint`}>
          {props.hint}
        </p>
      )}
      <Err ctx={props.ctx} path={props.path} />
    </div>
  )
}

function Text(props: {
  ctx: Ctx
  path: string
  label: string
  hint?: string
  type?: string
  placeholder?: string
  min?: number
  max?: number
  preview?: boolean
  required?: boolean
}) {
  const { ctx, path } = props
  return (
    <Field ctx={ctx} path={path} label={props.label} hint={props.hint}>
      <input
        {...aria(ctx, path, props.hint)}
        type={props.type ?? 'text'}
        value={textAt(ctx.draft, path)}
        placeholder={props.placeholder}
        min={props.min}
        max={props.max}
        step={props.type === 'number' ? 'any' : undefined}
        inputmode={props.type === 'number' ? 'decimal' : undefined}
        data-preview={props.preview ? path : undefined}
      />
    </Field>
  )
}

function Select(props: {
  ctx: Ctx
  path: string
  label: string
  options: readonly string[]
  labels?: Record<string, string>
  empty?: string
  hint?: string
  refresh?: boolean
}) {
  const { ctx, path } = props
  const current = textAt(ctx.draft, path)
  return (
    <Field ctx={ctx} path={path} label={props.label} hint={props.hint}>
      <select {...aria(ctx, path, props.hint)} data-refresh={props.refresh ? '' : undefined}>
        {props.empty !== undefined && (
          <option value="" selected={current === ''}>
            {props.empty}
          </option>
        )}
        {props.options.map((o) => (
          <option value={o} selected={o === current}>
            {props.labels?.[o] ?? o}
          </option>
        ))}
      </select>
    </Field>
  )
}

/** A builder button: posts the form with `_action` so the server (or script) redraws it. */
function ActionButton(props: { ctx: Ctx; action: string; children: Child; danger?: boolean }) {
  if (props.ctx.readOnly) {
    return null
  }
  return (
    <button
      type="submit"
      name="_action"
      value={props.action}
      formnovalidate
      class={props.danger ? 'danger' : undefined}
    >
      {props.children}
    </button>
  )
}

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

function ConditionNode(props: {
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

function ToastPreview(props: { draft: Draft }) {
  const d = props.draft
  const code = textAt(d, 'offer.code')
  const body = textAt(d, 'offer.body')
  const image = textAt(d, 'offer.imageUrl')
  return (
    <aside class="toast-wrap" aria-labelledby="preview-title">
      <h2 id="preview-title">How the offer looks</h2>
      <div class="toast" data-toast="">
        {/^https?:\/\//.test(image) && <img src={image} alt="" />}
        <p class="t-title" data-preview-target="offer.title">
          {textAt(d, 'offer.title') || 'Title'}
        </p>
        <p class="t-body" data-preview-target="offer.body" hidden={body === ''}>
          {body}
        </p>
        <span class="t-code" data-preview-target="offer.code" hidden={code === ''}>
          {code}
        </span>
        <div>
          <span class="t-cta" data-preview-target="offer.cta.label">
            {textAt(d, 'offer.cta.label') || 'Button'}
          </span>
        </div>
      </div>
      <p class="hint">Shown in the corner of the shopper's page; the store may restyle it.</p>
    </aside>
  )
}

/** What the form as it stands would match now (POST /v1/admin/preview; nothing is saved). */
function DraftPreview(props: { answer: ApiResult<PreviewView> }) {
  const { answer } = props
  return (
    <section
      class="notice good"
      id="draft-preview"
      aria-labelledby="draft-preview-title"
      tabindex={-1}
      autofocus
    >
      <h2 id="draft-preview-title">Who these settings match now</h2>
      {answer.ok ? (
        <>
          <p data-draft-preview="">
            <strong>{answer.data.matching}</strong> of {answer.data.scanned} current shopper
            profiles (not saved yet).
          </p>
          {answer.data.sample.length > 0 && (
            <ul class="why">
              {answer.data.sample.map((s) => (
                <li>
                  {s.passed ? '✓' : '✗'} {s.shopper}
                </li>
              ))}
            </ul>
          )}
        </>
      ) : (
        <p role="alert">
          {answer.error.issues && answer.error.issues.length > 0
            ? 'Fix the fields marked below to preview.'
            : answer.error.message}
        </p>
      )}
    </section>
  )
}

function IssueSummary(props: { issues: Issues; message?: string }) {
  if (props.issues.size === 0 && !props.message) {
    return null
  }
  return (
    <div class="notice bad" role="alert" id="form-issues" tabindex={-1}>
      <p>{props.message ?? 'The rule was not saved.'}</p>
      {props.issues.size > 0 && (
        <ul>
          {[...props.issues].map(([path, reasons]) => (
            <li>
              <a href={`#${fieldId(path)}`}>{labelOf(path)}</a>: {reasons.join(' ')}
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

export function RuleEditorPage(props: {
  staff: StaffView
  csrf: string
  draft: Draft
  rule?: RuleView
  issues?: Issues
  error?: string
  focus?: string
  notice?: Notice
  /** The answer to "Preview who it matches" for the form as it stands (unsaved). */
  draftPreview?: ApiResult<PreviewView>
}) {
  const { rule, staff } = props
  const readOnly = staff.role === 'viewer'
  const ctx: Ctx = {
    draft: props.draft,
    issues: props.issues ?? new Map(),
    focus: props.focus,
    readOnly,
  }
  const action = rule ? `/console/rules/${rule.id}` : '/console/rules/new'
  const title = rule ? rule.name : 'New rule'
  return (
    <Layout title={title} staff={staff} csrf={props.csrf} notice={props.notice}>
      {rule && (
        <div class="actions">
          <StatusBadge status={rule.status} />
          <span class="muted">
            version {rule.version}, saved {formatTime(rule.updatedAt)} by {rule.updatedBy}
          </span>
          {!readOnly && rule.status !== 'archived' && (
            <StatusAction rule={rule} csrf={props.csrf} back={`/console/rules/${rule.id}`} />
          )}
          {!readOnly && rule.status !== 'archived' && (
            <form
              method="post"
              action={`/console/rules/${rule.id}/archive`}
              data-confirm={`Archive “${rule.name}”? It stops for good and leaves the rules list (its results stay).`}
            >
              <input type="hidden" name="_csrf" value={props.csrf} />
              <input type="hidden" name="back" value="/console/rules" />
              <button type="submit" class="danger">
                Archive
              </button>
            </form>
          )}
          <a href={`/console/rules/${rule.id}/preview`}>Preview</a>
          <a href={`/console/rules/${rule.id}/results`}>Results</a>
          <a href={`/console/rules/${rule.id}/versions`}>History</a>
        </div>
      )}
      {readOnly && (
        <p class="notice good">You can read this rule; changing rules needs the editor role.</p>
      )}
      <IssueSummary issues={ctx.issues} message={props.error} />
      <div class="editor">
        <form method="post" action={action} data-editor="" novalidate>
          {!readOnly && (
            <button type="submit" name="_action" value="save" hidden>
              Save
            </button>
          )}
          <input type="hidden" name="_csrf" value={props.csrf} />
          <fieldset disabled={readOnly}>
            <legend>Rule</legend>
            <div class="grid two">
              <Text
                ctx={ctx}
                path="name"
                label="Name"
                hint="For staff only; shoppers never see it."
              />
              <Text
                ctx={ctx}
                path="priority"
                label="Priority"
                type="number"
                min={0}
                max={1000}
                hint="0–1000; the highest wins when several rules pass."
              />
            </div>
          </fieldset>
          <fieldset disabled={readOnly}>
            <legend>When</legend>
            <div class="grid three">
              <Select ctx={ctx} path="trigger.event" label="Trigger event" options={EVENT_TYPES} />
              <Text
                ctx={ctx}
                path="trigger.delay"
                label="Wait before deciding"
                hint='Optional: "30m", "2h", up to "30d".'
              />
              <Select
                ctx={ctx}
                path="trigger.unless"
                label="Unless meanwhile"
                options={EVENT_TYPES}
                empty="(nothing)"
                hint="Needs a wait."
              />
            </div>
          </fieldset>
          <fieldset disabled={readOnly} class="plain">
            <legend>Who qualifies</legend>
            <ConditionNode
              ctx={ctx}
              path="conditions"
              label="Conditions"
              depth={0}
              removable={false}
            />
          </fieldset>
          <fieldset disabled={readOnly}>
            <legend>Offer</legend>
            <Text ctx={ctx} path="offer.title" label="Title" preview />
            <Field ctx={ctx} path="offer.body" label="Text">
              <textarea {...aria(ctx, 'offer.body')} data-preview="offer.body">
                {textAt(ctx.draft, 'offer.body')}
              </textarea>
            </Field>
            <div class="grid two">
              <Text ctx={ctx} path="offer.cta.label" label="Button label" preview />
              <Text
                ctx={ctx}
                path="offer.cta.url"
                label="Button address"
                type="url"
                placeholder="https://"
              />
              <Text ctx={ctx} path="offer.code" label="Discount code" hint="Optional." preview />
              <Text
                ctx={ctx}
                path="offer.imageUrl"
                label="Image address"
                type="url"
                hint="Optional, https://…"
              />
              <Select
                ctx={ctx}
                path="offer.recommendations.source"
                label="Add product picks"
                options={RECOMMENDATION_SOURCES}
                empty="(none)"
              />
              <Text
                ctx={ctx}
                path="offer.recommendations.count"
                label="How many picks"
                type="number"
                min={1}
                max={12}
              />
              <Text ctx={ctx} path="offer.expiresIn" label="Valid for" hint='e.g. "1d", "2h".' />
            </div>
          </fieldset>
          <fieldset disabled={readOnly}>
            <legend>Limits</legend>
            <div class="grid two">
              <Text
                ctx={ctx}
                path="caps.perShopper.count"
                label="At most … offers per shopper"
                type="number"
                min={1}
              />
              <Text
                ctx={ctx}
                path="caps.perShopper.period"
                label="…in any"
                hint='e.g. "1d", "7d".'
              />
              <Text
                ctx={ctx}
                path="caps.cooldown"
                label="Cooldown"
                hint="No offer to a shopper who got any offer within this time."
              />
              <Text
                ctx={ctx}
                path="caps.budget"
                label="Budget"
                type="number"
                min={1}
                hint="Offers of this rule across all shoppers, ever."
              />
            </div>
          </fieldset>
          <fieldset disabled={readOnly}>
            <legend>Audience</legend>
            <div class="grid two">
              <Text
                ctx={ctx}
                path="audiencePercent"
                label="Audience %"
                type="number"
                min={0}
                max={100}
                hint="Share of qualifying shoppers the rule applies to."
              />
              <Text
                ctx={ctx}
                path="holdoutPercent"
                label="Holdout %"
                type="number"
                min={0}
                max={100}
                hint="Recorded but sent nothing, to measure the lift."
              />
            </div>
          </fieldset>
          <fieldset disabled={readOnly}>
            <legend>Schedule (UTC)</legend>
            <div class="grid two">
              <Text
                ctx={ctx}
                path="schedule.start"
                label="Start"
                type="datetime-local"
                hint="Optional."
              />
              <Text
                ctx={ctx}
                path="schedule.end"
                label="End"
                type="datetime-local"
                hint="Optional."
              />
            </div>
          </fieldset>
          {props.draftPreview && <DraftPreview answer={props.draftPreview} />}
          {!readOnly && (
            <div class="actions">
              <ActionButton ctx={ctx} action="preview">
                Preview who it matches
              </ActionButton>
              <button type="submit" name="_action" value="save" class="primary">
                {rule ? 'Save as a new version' : 'Save as draft'}
              </button>
              <a class="button" href={rule ? `/console/rules/${rule.id}` : '/console/rules'}>
                Cancel
              </a>
            </div>
          )}
        </form>
        <ToastPreview draft={props.draft} />
      </div>
    </Layout>
  )
}
