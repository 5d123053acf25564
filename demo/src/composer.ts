/**
 * A text box with @mention autocomplete from the user directory. Picking a user inserts
 * `@handle`; on send the text becomes body runs where each picked mention is a mention run
 * (`{ text, mention: userId }`), which is what notifies the mentioned user.
 */
import type { BodyRun } from '../../protocol/index.ts'
import { searchUsers, type DirectoryUser } from './api.ts'
import { h } from './dom.ts'

export interface ComposerOptions {
  placeholder: string
  subjectId: string
  token: () => Promise<string>
  /** Called on every keystroke (typing indicator). */
  onTyping?: () => void
  onSend: (body: BodyRun[]) => void
}

/** `@word` right before the caret, if the user is typing a mention. */
const MENTION_AT_CARET = /(?:^|\s)@([^\s@]*)$/

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Splits `text` into runs: each picked mention's text becomes a mention run. */
export function toRuns(text: string, picked: ReadonlyMap<string, string>): BodyRun[] {
  if (picked.size === 0) return [{ text }]
  const pattern = new RegExp(`(${[...picked.keys()].map(escapeRegExp).join('|')})`, 'g')
  const runs: BodyRun[] = []
  for (const part of text.split(pattern)) {
    if (part === '') continue
    const mention = picked.get(part)
    runs.push(mention === undefined ? { text: part } : { text: part, mention })
  }
  return runs
}

export function createComposer(options: ComposerOptions): HTMLElement {
  /** Mention text (`@bob`) → user id, for the mentions picked from the list. */
  const picked = new Map<string, string>()
  const input = h('input', { type: 'text', placeholder: options.placeholder, class: 'composer-input' })
  const suggestions = h('ul', { class: 'suggestions', role: 'listbox' })
  let asked = 0

  const close = () => suggestions.replaceChildren()
  const pick = (user: DirectoryUser) => {
    const before = input.value.slice(0, input.selectionStart ?? input.value.length)
    const after = input.value.slice(before.length)
    const text = `@${user.handle ?? user.id}`
    input.value = `${before.replace(/@[^\s@]*$/, text)} ${after}`
    picked.set(text, user.id)
    close()
    input.focus()
  }
  const suggest = async () => {
    const match = MENTION_AT_CARET.exec(input.value.slice(0, input.selectionStart ?? input.value.length))
    if (!match) return close()
    const ask = ++asked
    const users = await searchUsers(await options.token(), options.subjectId, match[1] ?? '')
    // A later keystroke asked again: its answer wins.
    if (ask !== asked) return
    suggestions.replaceChildren(
      ...users.map((user) =>
        h(
          'li',
          {
            role: 'option',
            'data-user': user.id,
            onmousedown: (event) => {
              event.preventDefault()
              pick(user)
            },
          },
          `${user.name ?? user.id} `,
          h('small', {}, `@${user.handle ?? user.id}`),
        ),
      ),
    )
  }
  const send = () => {
    const text = input.value.trim()
    if (!text) return
    options.onSend(toRuns(text, picked))
    input.value = ''
    picked.clear()
    close()
  }

  input.addEventListener('input', () => {
    options.onTyping?.()
    suggest().catch(close)
  })
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close()
    if (event.key !== 'Enter') return
    event.preventDefault()
    const first = suggestions.querySelector<HTMLLIElement>('li')
    // Enter picks the first suggestion while the list is open, and sends otherwise.
    if (first) first.dispatchEvent(new MouseEvent('mousedown'))
    else send()
  })
  input.addEventListener('blur', close)
  return h(
    'form',
    {
      class: 'composer',
      onsubmit: (event) => {
        event.preventDefault()
        send()
      },
    },
    input,
    h('button', { type: 'submit' }, 'Send'),
    suggestions,
  )
}
