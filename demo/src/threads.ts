/**
 * The threads of one subject, live: comments with mentions, reactions, reply, edit, delete,
 * resolve, and who is typing in each thread. Each thread keeps its DOM (and its reply box) across
 * updates; only its header and comments are drawn again when the document changes.
 */
import type { CommentsHandle, PresenceHandle } from '../../client/index.ts'
import type { Comment, Thread } from '../../protocol/index.ts'
import { createComposer } from './composer.ts'
import { fill, h, time } from './dom.ts'

/** The reactions the demo offers, with a word beside each (machines without an emoji font). */
const REACTIONS = [
  { emoji: '👍', label: 'Like' },
  { emoji: '🎉', label: 'Hooray' },
] as const

interface ThreadView {
  root: HTMLElement
  header: HTMLElement
  comments: HTMLElement
  typing: HTMLElement
}

export interface ThreadsContext {
  userId: string
  subjectId: string
  comments: CommentsHandle
  presence: PresenceHandle
  token: () => Promise<string>
}

function bodyOf(comment: Comment): HTMLElement {
  if (comment.deletedAt !== null) return h('p', { class: 'body deleted' }, 'deleted')
  return h('p', { class: 'body' }, ...comment.body.map((run) => ('mention' in run ? h('span', { class: 'mention', title: run.mention }, run.text) : run.text)))
}

export class ThreadsView {
  readonly element = h('section', { class: 'threads' })
  private readonly list = h('div', { class: 'thread-list' })
  private readonly views = new Map<string, ThreadView>()
  /** The comment being edited, if any. */
  private editing: string | null = null
  private readonly ctx: ThreadsContext

  constructor(ctx: ThreadsContext) {
    this.ctx = ctx
    const composer = createComposer({
      placeholder: 'Start a thread… (type @ to mention)',
      subjectId: ctx.subjectId,
      token: ctx.token,
      onSend: (body) => ctx.comments.createThread(body),
    })
    composer.dataset.testid = 'new-thread'
    this.element.append(this.list, composer)
    ctx.comments.observe((threads) => this.render(threads))
    ctx.presence.on('change', () => this.renderTyping())
    this.render(ctx.comments.threads())
  }

  private render(threads: Thread[]): void {
    for (const thread of threads) {
      let view = this.views.get(thread.id)
      if (!view) {
        view = this.create(thread.id)
        this.views.set(thread.id, view)
        this.list.append(view.root)
      }
      this.update(view, thread)
    }
    this.renderTyping()
  }

  private create(threadId: string): ThreadView {
    const { comments, presence } = this.ctx
    const header = h('header')
    const list = h('div', { class: 'comments' })
    const typing = h('div', { class: 'typing' })
    const reply = createComposer({
      placeholder: 'Reply…',
      subjectId: this.ctx.subjectId,
      token: this.ctx.token,
      onTyping: () => presence.setTyping(threadId),
      onSend: (body) => {
        comments.reply(threadId, body)
        presence.setTyping(null)
      },
    })
    const root = h('article', { class: 'thread', 'data-thread': threadId }, header, list, typing, reply)
    return { root, header, comments: list, typing }
  }

  private update(view: ThreadView, thread: Thread): void {
    const { comments } = this.ctx
    const resolve = thread.resolved
      ? h('button', { class: 'reopen', onclick: () => comments.reopen(thread.id) }, 'Reopen')
      : h('button', { class: 'resolve', onclick: () => comments.resolve(thread.id) }, 'Resolve')
    view.root.classList.toggle('resolved', thread.resolved)
    fill(view.header, h('span', { class: 'state' }, thread.resolved ? `✔ Resolved by ${thread.resolvedBy ?? '?'}` : 'Open'), resolve)
    fill(view.comments, ...thread.comments.map((comment) => this.comment(thread.id, comment)))
  }

  private comment(threadId: string, comment: Comment): HTMLElement {
    const { comments, userId } = this.ctx
    const mine = comment.authorId === userId && comment.deletedAt === null
    const meta = h('div', { class: 'meta' }, h('b', {}, comment.authorId), ` ${time(comment.createdAt)}`, comment.editedAt ? ' (edited)' : '')
    const reactions = h(
      'div',
      { class: 'reactions' },
      ...REACTIONS.map(({ emoji, label }) => {
        const users = comment.reactions.find((r) => r.emoji === emoji)?.userIds ?? []
        const on = users.includes(userId)
        const toggle = () => (on ? comments.unreact(threadId, comment.id, emoji) : comments.react(threadId, comment.id, emoji))
        return h(
          'button',
          { class: on ? 'reaction on' : 'reaction', 'data-emoji': emoji, title: users.join(', '), onclick: toggle },
          `${emoji} ${label} ${users.length}`,
        )
      }),
    )
    let body = bodyOf(comment)
    const actions = h('span', { class: 'actions' })
    if (mine && this.editing === comment.id) {
      const input = h('input', { type: 'text', value: comment.text, class: 'edit-input' })
      const save = (event: Event) => {
        event.preventDefault()
        const text = input.value.trim()
        // An empty edit changes nothing; either way the comment is drawn again.
        if (text && text !== comment.text) comments.edit(threadId, comment.id, text)
        this.setEditing(threadId, null)
      }
      body = h('form', { class: 'edit', onsubmit: save }, input, h('button', { type: 'submit' }, 'Save'))
    } else if (mine) {
      actions.append(
        h('button', { class: 'edit', onclick: () => this.setEditing(threadId, comment.id) }, 'Edit'),
        h('button', { class: 'delete', onclick: () => comments.delete(threadId, comment.id) }, 'Delete'),
      )
    }
    // A deleted comment keeps its place in the thread, without reactions or actions.
    const row = comment.deletedAt === null ? h('div', { class: 'row' }, reactions, actions) : ''
    return h('div', { class: 'comment', 'data-comment': comment.id }, meta, body, row)
  }

  private setEditing(threadId: string, commentId: string | null): void {
    this.editing = commentId
    const thread = this.ctx.comments.thread(threadId)
    const view = this.views.get(threadId)
    if (thread && view) this.update(view, thread)
  }

  /** "alice is typing…" under each thread someone else types a reply in. */
  private renderTyping(): void {
    for (const [threadId, view] of this.views) {
      const names = this.ctx.presence.typingIn(threadId).map((u) => u.name)
      view.typing.textContent = names.length ? `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} typing…` : ''
    }
  }
}
