/**
 * The user's inbox, live: unread and unseen badges, the notifications newest first, mark read.
 * Opening the list marks everything seen (the unseen badge is "new since you last looked").
 */
import type { InboxHandle } from '../../client/index.ts'
import type { InboxNotification } from '../../protocol/index.ts'
import { fill, h, time } from './dom.ts'

export function createInbox(inbox: InboxHandle): HTMLElement {
  const unseen = h('span', { class: 'badge unseen', 'data-testid': 'unseen', title: 'unseen' }, '0')
  const unread = h('span', { class: 'badge unread', 'data-testid': 'unread', title: 'unread' }, '0')
  const list = h('ul', { class: 'notifications' })
  const markAll = h('button', { class: 'mark-all', onclick: () => inbox.markAllRead() }, 'Mark all read')
  const panel = h('details', { class: 'inbox' }, h('summary', {}, 'Inbox ', unseen, ' new · ', unread, ' unread'), markAll, list)

  const item = (n: InboxNotification) => {
    const isUnread = n.readAt === null || n.readAt < n.notifiedAt
    return h(
      'li',
      { class: isUnread ? 'notification unread' : 'notification', 'data-notification': n.id },
      h('div', { class: 'meta' }, h('b', {}, n.actors.join(', ')), ` ${n.kind} in ${n.subjectId} · ${time(n.notifiedAt)}`),
      h('p', {}, n.preview),
      isUnread ? h('button', { class: 'mark-read', onclick: () => inbox.markRead(n.id) }, 'Mark read') : '',
    )
  }
  const render = () => {
    const counts = inbox.counts()
    unseen.textContent = String(counts.unseen)
    unread.textContent = String(counts.unread)
    unseen.classList.toggle('zero', counts.unseen === 0)
    unread.classList.toggle('zero', counts.unread === 0)
    const notifications = inbox.notifications()
    fill(list, ...(notifications.length ? notifications.map(item) : [h('li', { class: 'empty' }, 'Nothing yet')]))
    // While the list is open, what arrives is seen.
    if (panel.open && counts.unseen > 0) inbox.markSeen()
  }
  inbox.on('change', render)
  panel.addEventListener('toggle', render)
  render()
  return panel
}
