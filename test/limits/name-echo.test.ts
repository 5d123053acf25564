/**
 * A document name of any length is echoed in `invalid_document_name` and logged cut to the longest
 * valid name and `…`, never whole (a client may send 100 KB of name).
 */
import { Writable } from 'node:stream'
import * as decoding from 'lib0/decoding'
import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type WebSocket from 'ws'
import { MAX_DOCUMENT_NAME_LENGTH } from '../../protocol/index.ts'
import { authFrame } from '../helpers/frames.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { admitted, send } from './sockets.ts'

const AUTH = 2
const PERMISSION_DENIED = 1
const AUTHENTICATED = 2

/** Auth answers on a socket: (subtype, reason or scope). */
function authAnswers(ws: WebSocket): Array<{ type: number; text: string }> {
  const answers: Array<{ type: number; text: string }> = []
  ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data))
    decoding.readVarString(decoder)
    if (decoding.readVarUint(decoder) !== AUTH) return
    const type = decoding.readVarUint(decoder)
    answers.push({ type, text: decoding.hasContent(decoder) ? decoding.readVarString(decoder) : '' })
  })
  return answers
}

describe('document names in errors and logs', () => {
  let s: TestServer | undefined
  afterEach(async () => {
    vi.restoreAllMocks()
    await s?.dispose()
    s = undefined
  })

  it('echoes and logs a 100 KB name cut to the longest valid name', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString())
        done()
      },
    })
    // Hocuspocus prints each refused authentication's message too: watch what it prints.
    const printed = vi.spyOn(console, 'error')
    s = await startServer({ logger: pino({ level: 'info' }, sink) })
    const { ws } = await admitted(s.server.webSocketUrl)
    const answers = authAnswers(ws)
    const token = await s.token('ana')
    // Authenticated first, so that the long frame meets no pre-authentication limit.
    await send(ws, authFrame('inbox/ana', token))
    await waitFor(() => answers.some((a) => a.type === AUTHENTICATED), 'inbox authenticated')
    const name = `comments/${'n'.repeat(100_000)}`
    await send(ws, authFrame(name, token))
    await waitFor(() => answers.some((a) => a.type === PERMISSION_DENIED), 'the long name refused')
    ws.terminate()

    const reason = answers.find((a) => a.type === PERMISSION_DENIED)?.text ?? ''
    const shown = `${name.slice(0, MAX_DOCUMENT_NAME_LENGTH)}…`
    expect(reason).toBe(`invalid_document_name: "${shown}" is not comments/<id>, inbox/<id> or feed/<id>`)
    const refusal = lines.map((line) => JSON.parse(line) as { msg: string; documentName?: string }).find((entry) => entry.msg.startsWith('connection refused'))
    expect(refusal?.documentName).toBe(shown)
    expect(refusal?.msg).toContain(shown)
    for (const line of lines) expect(line.length).toBeLessThan(2_000)
    const printedText = printed.mock.calls.map((call) => call.join(' '))
    expect(printedText.some((text) => text.includes(shown))).toBe(true)
    for (const text of printedText) expect(text.length).toBeLessThan(2_000)
  })
})
