/** The server's HTTP base URL from its WebSocket URL: `ws://h:p/x` → `http://h:p`, `wss://` → `https://`. */
export function httpBaseOf(webSocketUrl: string): string {
  const url = new URL(webSocketUrl)
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:'
  return url.origin
}
