/**
 * The client address that per-address limits count. Behind a reverse proxy every socket comes from
 * the proxy; when the socket's peer is a trusted proxy (`PARLEY_TRUSTED_PROXIES`), the address is
 * read from `X-Forwarded-For`, walking from the right (the hop nearest to the server) past trusted
 * proxies: the first address that is not a trusted proxy is the client. What a client wrote into
 * the header itself sits further left, behind an untrusted hop, and is never reached.
 */
import { BlockList, isIP } from 'node:net'
import { IPV6_CLIENT_PREFIX_LENGTH } from './connection-limits.ts'
import { err, ok, type Result } from '../../protocol/index.ts'

export interface TrustedProxies {
  /** The configured entries, normalized (`10.0.0.1`, `10.0.0.0/8`, `fd00::/8`). */
  readonly entries: readonly string[]
  /** Whether a normalized address is one of the trusted proxies. */
  has(address: string): boolean
}

/** The entries of `PARLEY_TRUSTED_PROXIES`, or what is wrong with them. */
export type TrustedProxiesParse = Result<string[], string>

const IPV4_MAPPED_DOTTED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i
const IPV4_MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/

function canonicalIPv6(address: string): string {
  // The WHATWG URL parser writes IPv6 hosts in their canonical (RFC 5952) form.
  return new URL(`http://[${address}]/`).hostname.slice(1, -1)
}

/**
 * An address as a socket or a proxy reports it, normalized: brackets, a port and an IPv6 zone are
 * removed, an IPv4-mapped IPv6 address becomes IPv4, IPv6 is written canonically. Undefined when
 * it is not an IP address.
 */
export function normalizeAddress(raw: string): string | undefined {
  let text = raw.trim()
  if (text.startsWith('[')) {
    const end = text.indexOf(']')
    if (end === -1) return undefined
    text = text.slice(1, end)
  } else {
    const withPort = IPV4_WITH_PORT.exec(text)
    if (withPort?.[1]) text = withPort[1]
  }
  const zone = text.indexOf('%')
  if (zone !== -1) text = text.slice(0, zone)
  const mapped = IPV4_MAPPED_DOTTED.exec(text)
  if (mapped?.[1]) text = mapped[1]
  const family = isIP(text)
  if (family === 4) return text
  if (family !== 6) return undefined
  const canonical = canonicalIPv6(text)
  const hex = IPV4_MAPPED_HEX.exec(canonical)
  if (!hex?.[1] || !hex[2]) return canonical
  const high = parseInt(hex[1], 16)
  const low = parseInt(hex[2], 16)
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.')
}

/** Parses `PARLEY_TRUSTED_PROXIES`: comma-separated IP addresses and CIDR ranges (empty entries are skipped). */
export function parseTrustedProxies(text: string): TrustedProxiesParse {
  const entries: string[] = []
  for (const part of text.split(',')) {
    const entry = part.trim()
    if (entry === '') continue
    const slash = entry.indexOf('/')
    const written = slash === -1 ? entry : entry.slice(0, slash)
    // Plain addresses only: no brackets, ports or zones in the configuration.
    const address = isIP(written) === 0 ? undefined : normalizeAddress(written)
    const refusal = err(`"${entry}" is not an IP address or CIDR range`)
    if (!address) return refusal
    if (slash === -1) {
      entries.push(address)
      continue
    }
    const prefixText = entry.slice(slash + 1)
    const prefix = Number(prefixText)
    const maxPrefix = isIP(address) === 6 ? 128 : 32
    if (!/^\d{1,3}$/.test(prefixText) || prefix > maxPrefix) return refusal
    entries.push(`${address}/${prefix}`)
  }
  return ok(entries)
}

/** A set of trusted proxies from normalized entries (see {@link parseTrustedProxies}). */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/')
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (prefix === undefined) list.addAddress(address, family)
    else list.addSubnet(address, Number(prefix), family)
  }
  return {
    entries: [...entries],
    has: (address) => entries.length > 0 && list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4'),
  }
}

/** No proxy is trusted: the socket's peer is the client. */
export const NO_TRUSTED_PROXIES: TrustedProxies = trustedProxies([])

/**
 * The client of a connection whose peer is `peer` and whose request carried `forwardedFor`
 * (`X-Forwarded-For`, one header or several). Undefined when the peer has no address (the socket
 * is already gone). A malformed entry stops the walk at the trusted hop that passed it on, so a
 * string a client made up is never an address.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | readonly string[] | undefined, trusted: TrustedProxies): string | undefined {
  const peerAddress = peer === undefined ? undefined : normalizeAddress(peer)
  if (!peerAddress || !trusted.has(peerAddress) || forwardedFor === undefined) return peerAddress
  const hops = (typeof forwardedFor === 'string' ? [forwardedFor] : forwardedFor).flatMap((value) => value.split(','))
  let current = peerAddress
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i] ?? '')
    if (!hop) return current
    current = hop
    if (!trusted.has(hop)) return hop
  }
  return current
}

/** The key per-address limits count under: the address itself, or for IPv6 its /{@link IPV6_CLIENT_PREFIX_LENGTH} network. */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address
  const [head = '', tail] = address.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  const kept = IPV6_CLIENT_PREFIX_LENGTH / 16
  const network = [...groups.slice(0, kept), ...Array<string>(8 - kept).fill('0')].join(':')
  return `${canonicalIPv6(network)}/${IPV6_CLIENT_PREFIX_LENGTH}`
}
