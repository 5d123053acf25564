/** The client address behind trusted proxies, and the keys per-address limits count under (pure logic). */
import { describe, expect, it } from 'vitest'
import { echoedName, MAX_DOCUMENT_NAME_LENGTH } from '../../protocol/index.ts'
import { addressKey, clientAddress, NO_TRUSTED_PROXIES, normalizeAddress, parseTrustedProxies, trustedProxies } from '../../server/http/client-address.ts'

function proxies(text: string) {
  const parsed = parseTrustedProxies(text)
  if (!parsed.ok) throw new Error(parsed.error)
  return trustedProxies(parsed.value)
}

describe('normalizeAddress', () => {
  it('reads addresses as sockets and proxies write them', () => {
    expect(normalizeAddress('203.0.113.7')).toBe('203.0.113.7')
    expect(normalizeAddress(' 203.0.113.7 ')).toBe('203.0.113.7')
    expect(normalizeAddress('203.0.113.7:51234')).toBe('203.0.113.7')
    expect(normalizeAddress('::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(normalizeAddress('::FFFF:cb00:7107')).toBe('203.0.113.7')
    expect(normalizeAddress('[2001:db8::1]:443')).toBe('2001:db8::1')
    expect(normalizeAddress('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1')
    expect(normalizeAddress('fe80::1%eth0')).toBe('fe80::1')
  })
  it('refuses what is not an address', () => {
    for (const text of ['', 'unknown', 'example.com', '1.2.3', '999.1.1.1', '[::1', '_hidden', '203.0.113.7:80:90'])
      expect(normalizeAddress(text), text).toBeUndefined()
  })
})

describe('parseTrustedProxies', () => {
  it('takes addresses and CIDR ranges, comma-separated, empty entries skipped', () => {
    expect(parseTrustedProxies('10.0.0.1, 10.1.0.0/16,,fd00::/8 , ::1')).toEqual({ ok: true, value: ['10.0.0.1', '10.1.0.0/16', 'fd00::/8', '::1'] })
    expect(parseTrustedProxies('')).toEqual({ ok: true, value: [] })
  })
  it('refuses anything else with a one-line message naming the entry', () => {
    for (const text of ['10.0.0.1:80', 'proxy.local', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/x', '[::1]']) {
      const parsed = parseTrustedProxies(`10.0.0.1,${text}`)
      expect(parsed.ok, text).toBe(false)
      if (!parsed.ok) expect(parsed.error).toBe(`"${text}" is not an IP address or CIDR range`)
    }
  })
  it('matches addresses and ranges of both families', () => {
    const trusted = proxies('10.0.0.1, 172.16.0.0/12, fd00::/8')
    expect(trusted.has('10.0.0.1')).toBe(true)
    expect(trusted.has('10.0.0.2')).toBe(false)
    expect(trusted.has('172.31.255.255')).toBe(true)
    expect(trusted.has('172.32.0.0')).toBe(false)
    expect(trusted.has('fd12:3456::1')).toBe(true)
    expect(trusted.has('2001:db8::1')).toBe(false)
    expect(NO_TRUSTED_PROXIES.has('10.0.0.1')).toBe(false)
  })
})

describe('clientAddress', () => {
  const trusted = proxies('10.0.0.0/8, ::1')

  it('is the peer when the peer is not a trusted proxy, whatever the header says', () => {
    expect(clientAddress('198.51.100.9', '203.0.113.7', trusted)).toBe('198.51.100.9')
    expect(clientAddress('::ffff:198.51.100.9', undefined, trusted)).toBe('198.51.100.9')
    expect(clientAddress('10.0.0.5', '203.0.113.7', NO_TRUSTED_PROXIES)).toBe('10.0.0.5')
  })
  it('behind a trusted proxy, is the nearest hop that is not a trusted proxy', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.7', trusted)).toBe('203.0.113.7')
    // Two trusted proxies in a row; what the client wrote (1.1.1.1) is left of its own address.
    expect(clientAddress('10.0.0.5', '1.1.1.1, 203.0.113.7, 10.2.3.4', trusted)).toBe('203.0.113.7')
    // Several X-Forwarded-For headers read as one list, in order.
    expect(clientAddress('10.0.0.5', ['1.1.1.1, 203.0.113.7', '10.2.3.4'], trusted)).toBe('203.0.113.7')
    expect(clientAddress('::1', '[2001:db8::7]:5000', trusted)).toBe('2001:db8::7')
  })
  it('stops at the trusted hop that passed on a malformed entry', () => {
    expect(clientAddress('10.0.0.5', 'evil, 10.2.3.4', trusted)).toBe('10.2.3.4')
    expect(clientAddress('10.0.0.5', 'not-an-ip', trusted)).toBe('10.0.0.5')
    expect(clientAddress('10.0.0.5', '', trusted)).toBe('10.0.0.5')
  })
  it('is the leftmost hop when every hop is trusted, and nothing when the socket has no address', () => {
    expect(clientAddress('10.0.0.5', '10.9.9.9, 10.2.3.4', trusted)).toBe('10.9.9.9')
    expect(clientAddress('10.0.0.5', undefined, trusted)).toBe('10.0.0.5')
    expect(clientAddress(undefined, '203.0.113.7', trusted)).toBeUndefined()
  })
})

describe('addressKey', () => {
  it('is the address for IPv4 and the /64 network for IPv6', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7')
    expect(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:db8:1:2:ffff::9'))
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'))
    expect(addressKey('::1')).toBe('::/64')
  })
})

describe('echoedName', () => {
  it('keeps every valid name whole and cuts longer ones', () => {
    const longest = `comments/${'a'.repeat(128)}`
    expect(longest).toHaveLength(MAX_DOCUMENT_NAME_LENGTH)
    expect(echoedName(longest)).toBe(longest)
    expect(echoedName('x'.repeat(100_000))).toBe(`${'x'.repeat(MAX_DOCUMENT_NAME_LENGTH)}…`)
    // A surrogate pair across the cut is dropped whole.
    const emoji = `${'x'.repeat(MAX_DOCUMENT_NAME_LENGTH - 1)}😀😀`
    expect(echoedName(emoji)).toBe(`${'x'.repeat(MAX_DOCUMENT_NAME_LENGTH - 1)}…`)
  })
})
