/**
 * The Parley demo: pick a user, then one subject's threads live, with presence, the inbox and
 * the user's feed. Open it in two windows as two users and watch them talk.
 *
 * This is also the reference for using the SDK from a web app. In your app, import from
 * `@parley/client`; the demo imports the SDK's sources so that it builds from this repository.
 */
import { createParleyClient, IndexedDbStore } from '../../client/index.ts'
import { devTokenSource } from './api.ts'
import { h } from './dom.ts'
import { createFeed } from './feed.ts'
import { createInbox } from './inbox.ts'
import { createAvatars, createStatus, wantsOffline } from './status.ts'
import { ThreadsView } from './threads.ts'

/** Users offered on the start screen; any other id can be typed in. */
const SAMPLE_USERS = ['alice', 'bob', 'carol']
const DEFAULT_SUBJECT = 'welcome'
const app = document.querySelector<HTMLElement>('#app') ?? document.body

/** Start screen: choose who you are; the choice goes into the URL (`?user=alice`). */
function picker(subjectId: string): void {
  const go = (userId: string) => {
    if (userId) location.search = new URLSearchParams({ user: userId, subject: subjectId }).toString()
  }
  const input = h('input', { type: 'text', placeholder: 'or another user id', pattern: '[A-Za-z0-9_.:@-]{1,128}' })
  app.replaceChildren(
    h('h1', {}, 'Parley demo'),
    h('p', {}, 'Who are you? Open a second window as someone else.'),
    h('div', { class: 'pick' }, ...SAMPLE_USERS.map((user) => h('button', { onclick: () => go(user), 'data-user': user }, user))),
    h(
      'form',
      {
        onsubmit: (event) => {
          event.preventDefault()
          go(input.value.trim())
        },
      },
      input,
      h('button', { type: 'submit' }, 'Go'),
    ),
  )
}

async function start(userId: string, subjectId: string): Promise<void> {
  const token = devTokenSource(userId, userId.charAt(0).toUpperCase() + userId.slice(1))
  const client = await createParleyClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`,
    token,
    // Documents are kept in IndexedDB: changes made offline survive a reload.
    store: new IndexedDbStore(`parley-demo-${userId}`),
  })
  // Before opening any document, so that nothing is sent when the page starts offline.
  if (wantsOffline(userId)) client.disconnect()

  const comments = client.comments(subjectId)
  const presence = client.presence(subjectId)
  const followers = () => comments.followers()[userId] !== undefined
  const follow = h('button', { class: 'follow' }, '')
  const renderFollow = () => (follow.textContent = followers() ? 'Unfollow' : 'Follow')
  follow.addEventListener('click', () => (followers() ? comments.unfollow() : comments.follow()))
  comments.observe(renderFollow)
  renderFollow()

  app.replaceChildren(
    h(
      'header',
      { class: 'top' },
      h('h1', {}, 'Parley'),
      h('span', { class: 'who', 'data-testid': 'me' }, `${userId} on “${subjectId}”`),
      createAvatars(presence),
      createStatus(client),
      h('a', { href: `?subject=${encodeURIComponent(subjectId)}` }, 'switch user'),
    ),
    h(
      'main',
      {},
      h(
        'section',
        { class: 'subject' },
        h('h2', {}, `Threads on ${subjectId} `, follow),
        new ThreadsView({ userId, subjectId, comments, presence, token }).element,
      ),
      h('aside', {}, createInbox(client.inbox()), createFeed(client.feed(`user:${userId}`))),
    ),
  )
  // Input anywhere counts as activity for presence (active / idle).
  for (const type of ['keydown', 'pointerdown']) document.addEventListener(type, () => presence.markActive())
  document.body.dataset.ready = 'true'
}

const params = new URLSearchParams(location.search)
const subjectId = params.get('subject') ?? DEFAULT_SUBJECT
const userId = params.get('user')
if (userId) {
  start(userId, subjectId).catch((error: unknown) => {
    app.replaceChildren(h('p', { class: 'error' }, `Could not start: ${error instanceof Error ? error.message : String(error)}`))
  })
} else {
  picker(subjectId)
}
