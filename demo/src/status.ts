/**
 * The connection status with the "sending" count, the offline switch, and the presence avatars.
 * The switch is remembered per user in localStorage, so a reload stays offline: changes made
 * meanwhile wait in IndexedDB and sync once the switch is turned back on. "sending N" is the SDK's
 * count of changes the server has not acknowledged, those stored before a reload included.
 */
import type { ParleyClient, PresenceHandle } from '../../client/index.ts'
import { fill, h } from './dom.ts'

const offlineKey = (userId: string) => `parley-demo:offline:${userId}`

/** Whether the user switched the demo offline (before a reload too). */
export function wantsOffline(userId: string): boolean {
  return localStorage.getItem(offlineKey(userId)) === '1'
}

export function createStatus(client: ParleyClient): HTMLElement {
  const dot = h('span', { class: 'dot' })
  const label = h('span', { 'data-testid': 'status' })
  const sending = h('span', { 'data-testid': 'sending', title: 'changes the server has not acknowledged yet' })
  const offline = h('input', { type: 'checkbox', 'data-testid': 'offline' })
  offline.checked = wantsOffline(client.userId)
  const render = () => {
    dot.className = `dot ${client.status}`
    label.textContent = client.status
    sending.textContent = `sending ${client.sending}`
  }
  offline.addEventListener('change', () => {
    localStorage.setItem(offlineKey(client.userId), offline.checked ? '1' : '0')
    if (offline.checked) client.disconnect()
    else client.connect()
  })
  client.on('status', render)
  client.on('sending', render)
  render()
  return h('div', { class: 'status' }, dot, label, ' · ', sending, h('label', { class: 'switch' }, offline, ' offline'))
}

/** One avatar (initials) per user present; idle ones faded, typing ones marked. */
export function createAvatars(presence: PresenceHandle): HTMLElement {
  const root = h('div', { class: 'avatars', 'data-testid': 'avatars' })
  const render = () =>
    fill(
      root,
      ...presence.users().map((user) =>
        h(
          'span',
          {
            class: `avatar ${user.status}${user.typing ? ' typing' : ''}${user.self ? ' self' : ''}`,
            title: `${user.name} (${user.status})`,
            'data-user': user.id,
          },
          user.name.slice(0, 2).toUpperCase(),
        ),
      ),
    )
  presence.on('change', render)
  render()
  return root
}
