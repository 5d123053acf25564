/**
 * The webhook sender's worker thread (threaded-sender.ts): signs and POSTs the jobs the main thread
 * posts, and posts the answers back, those finished in one turn in one message.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { PostAnswer } from './post.ts'
import { createInlineSender, type SenderSettings } from './sender.ts'
import type { FromSender, ToSender } from './threaded-sender.ts'

const port = parentPort
if (!port) throw new Error('sender-worker.ts runs as a worker thread')
const sender = createInlineSender(workerData as SenderSettings)
let answers: Array<{ seq: number; answer: PostAnswer }> = []

function flush(): void {
  const message: FromSender = { type: 'answers', answers }
  answers = []
  port?.postMessage(message)
}

port.on('message', (message: ToSender) => {
  if (message.type === 'close') {
    sender.close()
    return
  }
  for (const job of message.jobs) {
    void sender.send(job).then((answer) => {
      if (answers.length === 0) setImmediate(flush)
      answers.push({ seq: job.seq, answer })
    })
  }
})
