/**
 * Progress on the terminal (stderr): one status line rewritten in place on a TTY, occasional
 * lines otherwise (CI logs), and permanent lines for results.
 */

/** Least time between two rewrites of the status line on a TTY. */
const TTY_REFRESH_MS = 200

/** Least time between two status lines when stderr is not a TTY. */
const LOG_REFRESH_MS = 10_000

export class Progress {
  private readonly stream: NodeJS.WriteStream
  private readonly tty: boolean
  private readonly quiet: boolean
  private prefix = ''
  private status = ''
  private lastWrite = 0
  private pending = false

  constructor(options: { stream?: NodeJS.WriteStream; quiet?: boolean } = {}) {
    this.stream = options.stream ?? process.stderr
    this.tty = Boolean(this.stream.isTTY)
    this.quiet = options.quiet ?? false
  }

  /** What is being run: `fanout/large parley 2/3`. */
  phase(prefix: string): void {
    this.prefix = prefix
    this.update('starting', true)
  }

  /** The current step within the phase: `connecting 640/1000`. */
  update(status: string, force = false): void {
    this.status = status
    if (this.quiet) return
    const now = performance.now()
    const every = this.tty ? TTY_REFRESH_MS : LOG_REFRESH_MS
    if (!force && now - this.lastWrite < every) {
      this.pending = true
      return
    }
    this.lastWrite = now
    this.pending = false
    const line = `[${this.prefix}] ${this.status}`
    if (this.tty) this.stream.write(`\r\x1b[K${line.slice(0, (this.stream.columns || 120) - 1)}`)
    else this.stream.write(`${line}\n`)
  }

  /** A line that stays (a run's result, a warning). */
  log(line: string): void {
    if (this.quiet) return
    if (this.tty) this.stream.write('\r\x1b[K')
    this.stream.write(`${line}\n`)
    if (this.tty && this.pending) this.update(this.status, true)
  }

  done(): void {
    if (!this.quiet && this.tty) this.stream.write('\r\x1b[K')
  }
}
