/**
 * CPU and memory of a process from /proc (Linux), read from outside so that a busy server is
 * measured the same way as an idle one, and of the load generator itself.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'

/** Kernel clock ticks per second (`getconf CLK_TCK`; 100 on every common Linux). */
const CLOCK_TICKS = 100

/** How often a {@link ProcessMonitor} samples RSS. */
export const SAMPLE_MS = 200

export interface ProcessSnapshot {
  /** user + system CPU time in seconds. */
  cpuSeconds: number
  rssBytes: number
  /** Peak RSS since start or since {@link resetPeakRss}. */
  peakRssBytes: number
}

function statusKb(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  return match?.[1] ? Number(match[1]) * 1024 : Number.NaN
}

export function snapshot(pid: number): ProcessSnapshot {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the parenthesised command name, which may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return {
    cpuSeconds: (utime + stime) / CLOCK_TICKS,
    rssBytes: statusKb(status, 'VmRSS'),
    peakRssBytes: statusKb(status, 'VmHWM'),
  }
}

/** CPU seconds all processes on the machine have used since boot (user, system, irq, steal). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
  const ticks = line.trim().split(/\s+/).slice(1).map(Number)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
}

/** Resets the kernel's peak-RSS mark (VmHWM) of a process we own; false if not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/** The soft limit on open files of this process (from /proc/self/limits). */
export function openFileLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8')
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits)
  if (!match?.[1]) return Number.NaN
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1])
}

export interface WindowStats {
  seconds: number
  /** CPU use in percent of one core over the window. */
  cpuPct: number
  rssStartMB: number
  rssEndMB: number
  rssPeakMB: number
}

const MB = 1024 * 1024

/** Measures one process over a window: CPU share, RSS at both ends and its peak. */
export class ProcessMonitor {
  private readonly pid: number
  private readonly start: ProcessSnapshot
  private readonly startedAt = performance.now()
  private peak: number
  private readonly timer: NodeJS.Timeout
  private readonly exactPeak: boolean

  constructor(pid: number) {
    this.pid = pid
    this.exactPeak = resetPeakRss(pid)
    this.start = snapshot(pid)
    this.peak = this.start.rssBytes
    this.timer = setInterval(() => {
      try {
        this.peak = Math.max(this.peak, snapshot(pid).rssBytes)
      } catch {
        // The process exited; the run will notice.
      }
    }, SAMPLE_MS)
    this.timer.unref()
  }

  end(): WindowStats {
    clearInterval(this.timer)
    const end = snapshot(this.pid)
    const seconds = (performance.now() - this.startedAt) / 1000
    const peak = Math.max(this.peak, end.rssBytes, this.exactPeak ? end.peakRssBytes : 0)
    return {
      seconds,
      cpuPct: (100 * (end.cpuSeconds - this.start.cpuSeconds)) / seconds,
      rssStartMB: this.start.rssBytes / MB,
      rssEndMB: end.rssBytes / MB,
      rssPeakMB: peak / MB,
    }
  }
}

/** Timer period of the load generator's event-loop delay histogram, in ms. */
const LOOP_RESOLUTION_MS = 10

/** This process (the load generator): CPU share and event-loop delay over a window. */
export class SelfMonitor {
  private readonly cpu = process.cpuUsage()
  private readonly startedAt = performance.now()
  private readonly loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })

  constructor() {
    this.loop.enable()
  }

  end(): { cpuPct: number; loopP99Ms: number } {
    this.loop.disable()
    const used = process.cpuUsage(this.cpu)
    const seconds = (performance.now() - this.startedAt) / 1000
    return { cpuPct: (used.user + used.system) / 1e4 / seconds, loopP99Ms: Math.max(0, this.loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS) }
  }
}
