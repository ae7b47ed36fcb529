/**
 * @module The console's progressive enhancement, run in the browser (bundled by console/assets.ts).
 * Loaded in the head, so the `js` class is set before the page is drawn (no layout jump when
 * the "Update" buttons that only a script-less browser needs are hidden). It adds:
 * - a confirmation before any form with `data-confirm` is sent (pause / activate);
 * - status filters that apply on change;
 * - the rule editor's builder buttons and kind / fact choices redraw the form in place (the same
 *   server rendering a script-less post gets), keeping focus and everything typed;
 * - the toast preview follows the offer's inputs as they are typed;
 * - the health figures refresh themselves every 10 seconds.
 * A failed redraw changes nothing in the form and says so in the page's status area.
 */

document.documentElement.classList.add('js')

function say(text: string): void {
  const notice = document.getElementById('notice')
  if (notice) {
    notice.replaceChildren()
    const p = document.createElement('p')
    p.className = 'notice bad'
    p.textContent = text
    notice.append(p)
  }
}

function confirmations(): void {
  document.addEventListener('submit', (event) => {
    const form = event.target as HTMLFormElement
    const question = form.dataset.confirm
    if (question === undefined) {
      return
    }
    if (!window.confirm(question)) {
      event.preventDefault()
      return
    }
    if (!form.querySelector('input[name="confirmed"]')) {
      const input = document.createElement('input')
      input.type = 'hidden'
      input.name = 'confirmed'
      input.value = '1'
      form.append(input)
    }
  })
  for (const select of Array.from(
    document.querySelectorAll<HTMLSelectElement>('select[data-autosubmit]'),
  )) {
    select.addEventListener('change', () => select.form?.requestSubmit())
  }
}

function updatePreview(form: HTMLFormElement, input: HTMLInputElement | HTMLTextAreaElement) {
  const target = document.querySelector<HTMLElement>(`[data-preview-target="${input.name}"]`)
  if (!target) {
    return
  }
  const fallback: Record<string, string> = { 'offer.title': 'Title', 'offer.cta.label': 'Button' }
  const value = input.value.trim()
  target.textContent = value || fallback[input.name] || ''
  target.hidden = value === '' && fallback[input.name] === undefined
  form.dataset.dirty = '1'
}

function enhanceEditor(form: HTMLFormElement): void {
  let busy = false
  async function redraw(action: string): Promise<void> {
    if (busy) {
      return
    }
    busy = true
    const focusedId = document.activeElement?.id
    const body = new FormData(form)
    body.set('_action', action)
    try {
      const res = await fetch(form.action, { method: 'POST', body, credentials: 'same-origin' })
      if (res.redirected && new URL(res.url).pathname.startsWith('/console/sign-in')) {
        window.location.href = res.url
        return
      }
      const fresh = new DOMParser()
        .parseFromString(await res.text(), 'text/html')
        .querySelector<HTMLFormElement>('form[data-editor]')
      if (res.status === 401) {
        say('Your session ended. Press Save: you will sign in again and your changes come back.')
        return
      }
      if (!res.ok || !fresh) {
        say(`Could not update the form (the server answered ${res.status}); nothing was lost.`)
        return
      }
      form.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)))
      const next =
        form.querySelector<HTMLElement>('[autofocus]') ??
        (focusedId ? document.getElementById(focusedId) : null)
      next?.focus()
    } catch {
      say('Could not reach the server to update the form; nothing was lost. Try again.')
    } finally {
      busy = false
    }
  }
  form.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>(
      'button[name="_action"]',
    )
    if (button && button.value !== 'save') {
      event.preventDefault()
      void redraw(button.value)
    }
  })
  form.addEventListener('change', (event) => {
    const target = event.target as HTMLElement
    if (target instanceof HTMLSelectElement && target.dataset.refresh !== undefined) {
      void redraw('refresh')
    }
  })
  form.addEventListener('input', (event) => {
    const target = event.target
    if (
      (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) &&
      target.dataset.preview !== undefined
    ) {
      updatePreview(form, target)
    }
  })
}

/**
 * Redraws `[data-autorefresh]` sections (the health figures) in place every so many
 * milliseconds while the tab is visible, unless focus is inside them (a reader keeps their
 * place). A failed refresh keeps the last figures; the next one tries again.
 */
function autorefresh(): void {
  for (const section of Array.from(document.querySelectorAll<HTMLElement>('[data-autorefresh]'))) {
    const every = Math.max(2000, Number(section.dataset.autorefresh) || 10_000)
    window.setInterval(async () => {
      if (document.hidden || section.contains(document.activeElement)) {
        return
      }
      try {
        const res = await fetch(window.location.href, { credentials: 'same-origin' })
        const fresh = new DOMParser()
          .parseFromString(await res.text(), 'text/html')
          .getElementById(section.id)
        if (res.ok && fresh) {
          section.replaceChildren(
            ...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)),
          )
        }
      } catch {
        // Offline for a moment: keep showing the last figures.
      }
    }, every)
  }
}

document.addEventListener('DOMContentLoaded', () => {
  confirmations()
  autorefresh()
  const editor = document.querySelector<HTMLFormElement>('form[data-editor]')
  if (editor) {
    enhanceEditor(editor)
    document.getElementById('form-issues')?.focus()
  }
})
