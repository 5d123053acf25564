/**
 * The request Hocuspocus gets for an upgrade (server/http/upgrade-request.ts) reads like a Fetch
 * `Request` for the same GET: URL, method, headers, an empty body, a clone; and it holds only its
 * URL and headers.
 */
import { describe, expect, it } from 'vitest'
import { UpgradeRequest } from '../../server/http/upgrade-request.ts'

const URL_TEXT = 'http://127.0.0.1:1234/collab?room=a&x=1'

function headers(): Headers {
  return new Headers({ host: '127.0.0.1:1234', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'x-forwarded-for': '10.0.0.1' })
}

describe('UpgradeRequest', () => {
  it('reads as a Fetch Request of the same GET does', async () => {
    const light = new UpgradeRequest(URL_TEXT, headers())
    const fetchRequest = new Request(URL_TEXT, { headers: headers() })
    for (const key of [
      'url',
      'method',
      'cache',
      'credentials',
      'destination',
      'integrity',
      'keepalive',
      'mode',
      'redirect',
      'referrer',
      'referrerPolicy',
      'body',
      'bodyUsed',
    ] as const) {
      expect(light[key], key).toEqual(fetchRequest[key])
    }
    expect([...light.headers]).toEqual([...fetchRequest.headers])
    expect(new URL(light.url).searchParams.get('room')).toBe('a')
    expect(await light.text()).toBe(await fetchRequest.text())
    expect((await light.arrayBuffer()).byteLength).toBe(0)
    expect((await light.bytes()).byteLength).toBe(0)
    expect((await light.blob()).size).toBe(0)
    await expect(light.json()).rejects.toThrow(SyntaxError)
    await expect(light.formData()).rejects.toThrow(TypeError)
    expect(light.signal.aborted).toBe(false)
  })

  it('clones into an equal request with headers of its own', () => {
    const light = new UpgradeRequest(URL_TEXT, headers())
    const copy = light.clone()
    expect(copy).not.toBe(light)
    expect(copy.url).toBe(light.url)
    copy.headers.set('x-extra', '1')
    expect(light.headers.has('x-extra')).toBe(false)
  })

  it('holds only its URL and headers', () => {
    expect(Object.keys(new UpgradeRequest(URL_TEXT, headers())).sort()).toEqual(['headers', 'url'])
  })
})
