import { EVENT_TYPES } from '../../streams/events'
import { RECOMMENDATION_SOURCES } from '../../streams/rules'
import type { ApiResult, PreviewView, RuleView, StaffView } from '../admin-client'
import { formatTime } from '../format'
import { Layout, type Notice, StatusBadge } from '../layout'
import { labelOf } from '../rule-diff'
import { type Draft, textAt } from '../rule-form'
import { ConditionNode } from './rule-editor-conditions'
import {
  ActionButton,
  aria,
  type Ctx,
  Field,
  fieldId,
  type Issues,
  Select,
  Text,
} from './rule-editor-fields'
import { StatusAction } from './rules-list'

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
