/**
 * The user's personal feed (`feed/user:<userId>`), live and read-only: activity in the subjects the
 * user follows or hosts, by others. "Load older" pages over REST.
 */
import type { FeedHandle } from '../../client/index.ts'
import { fill, h, time } from './dom.ts'

export function createFeed(feed: FeedHandle): HTMLElement {
  const list = h('ul', { class: 'feed-items' })
  const more = h('button', { class: 'load-more', onclick: () => void feed.loadMore().catch(() => (more.disabled = true)) }, 'Load older')
  const render = () => {
    const items = feed.items()
    fill(
      list,
      ...(items.length
        ? items.map((item) =>
            h('li', { class: 'feed-item', 'data-item': item.id, 'data-type': item.type }, h('p', {}, item.summary), h('small', {}, time(item.updatedAt))),
          )
        : [h('li', { class: 'empty' }, 'Follow a subject to see its activity here')]),
    )
    more.hidden = !feed.hasMore
  }
  feed.on('change', render)
  render()
  return h('section', { class: 'feed' }, h('h2', {}, 'Your feed'), list, more)
}
