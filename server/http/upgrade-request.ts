/**
 * The request Hocuspocus is handed for a WebSocket upgrade: the upgrade's URL and headers, and what
 * a GET without a body has for the rest. A Fetch `Request` built for the same thing is kept for as
 * long as the socket is open and costs about 1 KB each (the URL parsed twice, an AbortSignal, the
 * fetch specification's internal state) and about 10 µs per connect (issue 22: a tenth of 10,000
 * sockets' memory above plain Hocuspocus). Hocuspocus reads `url` and `headers`; Parley reads the
 * headers and uses the object as the socket's key (server/http/pre-auth.ts). Only `url` and
 * `headers` are held per instance; everything else is a getter on the prototype.
 */
export class UpgradeRequest implements Request {
  readonly url: string
  readonly headers: Headers

  constructor(url: string, headers: Headers) {
    this.url = url
    this.headers = headers
  }

  get method(): string {
    return 'GET'
  }
  get cache(): RequestCache {
    return 'default'
  }
  get credentials(): RequestCredentials {
    return 'same-origin'
  }
  get destination(): RequestDestination {
    return ''
  }
  get integrity(): string {
    return ''
  }
  get keepalive(): boolean {
    return false
  }
  get mode(): RequestMode {
    return 'cors'
  }
  get redirect(): RequestRedirect {
    return 'follow'
  }
  get referrer(): string {
    return 'about:client'
  }
  get referrerPolicy(): ReferrerPolicy {
    return ''
  }
  get duplex(): 'half' {
    return 'half'
  }
  /** A signal that never aborts: the upgrade is over by the time anyone reads it. */
  get signal(): AbortSignal {
    return new AbortController().signal
  }
  get body(): null {
    return null
  }
  get bodyUsed(): boolean {
    return false
  }

  clone(): UpgradeRequest {
    return new UpgradeRequest(this.url, new Headers(this.headers))
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    return new ArrayBuffer(0)
  }
  async blob(): Promise<Blob> {
    return new Blob([])
  }
  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(0)
  }
  async formData(): Promise<FormData> {
    throw new TypeError('an upgrade request has no body to read as form data')
  }
  async json(): Promise<unknown> {
    throw new SyntaxError('an upgrade request has no body to read as JSON')
  }
  async text(): Promise<string> {
    return ''
  }
}
