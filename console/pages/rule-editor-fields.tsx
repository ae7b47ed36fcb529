/** @jsxImportSource hono/jsx */
/**
 * @module The rule editor's form primitives: labelled inputs named by their path in the rule
 * (see rule-form.ts), each with the API's issues for that path under it and wired for screen
 * readers, and the buttons that post the form back to be drawn again.
 */
import type { Child } from 'hono/jsx'
import { type Draft, textAt } from '../rule-form'

/** Issues of the last save, by field path, in the API's words. */
export type Issues = Map<string, string[]>

/** What every input of the editor reads: the form as posted, its issues, where focus goes. */
export type Ctx = { draft: Draft; issues: Issues; focus?: string; readOnly: boolean }

export function fieldId(path: string): string {
  return `f-${path.replace(/\./g, '-')}`
}

export function Err(props: { ctx: Ctx; path: string }) {
  const messages = props.ctx.issues.get(props.path)
  return messages ? (
    <p class="error" id={`${fieldId(props.path)}-error`}>
      {messages.join(' ')}
    </p>
  ) : null
}

export function aria(ctx: Ctx, path: string, hint?: string) {
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

export function Field(props: {
  ctx: Ctx
  path: string
  label: string
  hint?: string
  children: Child
}) {
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

export function Text(props: {
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

export function Select(props: {
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
export function ActionButton(props: {
  ctx: Ctx
  action: string
  children: Child
  danger?: boolean
}) {
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
