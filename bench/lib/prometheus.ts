/**
 * A small, strict reader of the Prometheus text exposition format (version 0.0.4): enough to
 * check that /metrics parses and to read a few series.
 */

export interface MetricFamily {
  name: string
  type: string
  help: string
}

export interface Sample {
  /** Metric name, e.g. `parley_messages_in_total`. */
  name: string
  labels: Record<string, string>
  value: number
}

export interface Exposition {
  families: Map<string, MetricFamily>
  samples: Sample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`)
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y
const COMMENT = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`)
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

/** Sample values as Prometheus reads them (Go's ParseFloat: `NaN`, `Inf` in any case). */
function parseValue(text: string): number {
  const lower = text.toLowerCase()
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY
  if (lower === '-inf') return Number.NEGATIVE_INFINITY
  if (lower === 'nan') return Number.NaN
  const value = Number(text)
  if (text === '' || Number.isNaN(value)) throw new Error(`not a sample value: "${text}"`)
  return value
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {}
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex
    const match = LABEL.exec(text)
    if (!match?.[1] || match.index !== start) throw new Error(`line ${line}: bad labels "${text}"`)
    labels[match[1]] = (match[2] ?? '').replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c))
  }
  return labels
}

/** Parses an exposition; throws with the line number on anything malformed. */
export function parseExposition(text: string): Exposition {
  const families = new Map<string, MetricFamily>()
  const samples: Sample[] = []
  text.split('\n').forEach((raw, index) => {
    const line = index + 1
    if (raw.trim() === '') return
    if (raw.startsWith('#')) {
      const comment = COMMENT.exec(raw)
      if (!comment?.[1] || !comment[2]) return
      const family = families.get(comment[2]) ?? { name: comment[2], type: 'untyped', help: '' }
      if (comment[1] === 'TYPE') {
        if (!TYPES.has(comment[3] ?? '')) throw new Error(`line ${line}: unknown type "${comment[3] ?? ''}"`)
        family.type = comment[3] ?? 'untyped'
      } else family.help = comment[3] ?? ''
      families.set(family.name, family)
      return
    }
    const match = SAMPLE.exec(raw)
    if (!match?.[1] || match[3] === undefined) throw new Error(`line ${line}: not a sample: "${raw}"`)
    samples.push({ name: match[1], labels: match[2] ? parseLabels(match[2], line) : {}, value: parseValue(match[3]) })
  })
  return { families, samples }
}

/** The sum of a metric's samples whose labels include `labels`. */
export function total(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  for (const sample of exposition.samples) {
    if (sample.name !== name) continue
    if (Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) sum += sample.value
  }
  return sum
}

/** Fetches `<httpUrl>/metrics` and returns each unlabelled series' value by name. */
export async function scrapeMetrics(httpUrl: string, token?: string): Promise<Map<string, number>> {
  const response = await fetch(`${httpUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`)
  const exposition = parseExposition(await response.text())
  const values = new Map<string, number>()
  for (const sample of exposition.samples) if (Object.keys(sample.labels).length === 0) values.set(sample.name, sample.value)
  return values
}
