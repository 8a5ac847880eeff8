// A headless Chromium for tests, driven over the DevTools protocol through a pipe
// (--remote-debugging-pipe: JSON messages ending in NUL on file descriptors 3 and 4), so no
// WebSocket client or browser-automation package is needed. One browser per test file; each page is a
// target attached in flat mode, its events kept for the test to inspect (e.g. every network request).
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {Readable, Writable} from 'node:stream'

/** The Chromium binary: $CHROMIUM, else Debian's /usr/bin/chromium; undefined when there is none. */
export function chromiumPath(): string | undefined {
  for (const candidate of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate && existsSync(candidate)) return candidate
  }
  return undefined
}

export interface CdpEvent {
  method: string
  params: Record<string, unknown>
  sessionId?: string
}

export class Chromium {
  private nextId = 1
  private readonly pending = new Map<number, {resolve: (value: Record<string, unknown>) => void; reject: (error: Error) => void; method: string}>()
  private readonly waiters: Array<{match: (event: CdpEvent) => boolean; resolve: (event: CdpEvent) => void}> = []
  readonly events: CdpEvent[] = []
  private buffer = ''
  private exited = false
  stderr = ''

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const output = child.stdio[4] as Readable
    output.setEncoding('utf8')
    output.on('data', (chunk: string) => this.receive(chunk))
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000)
    })
    child.on('exit', () => {
      this.exited = true
      for (const {reject, method} of this.pending.values()) reject(new Error(`chromium exited during ${method}: ${this.stderr}`))
      this.pending.clear()
    })
  }

  /** Starts Chromium headless with a fresh profile and nothing running in the background. */
  static async launch(binary: string, extraArgs: string[] = []): Promise<Chromium> {
    const profile = mkdtempSync(path.join(tmpdir(), 'layers-chromium-'))
    const child = spawn(
      binary,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        '--remote-debugging-pipe',
        `--user-data-dir=${profile}`,
        ...extraArgs,
        'about:blank',
      ],
      {stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe']},
    )
    const browser = new Chromium(child, profile)
    // The first answer proves the pipe is up.
    await browser.send('Browser.getVersion')
    return browser
  }

  private receive(chunk: string): void {
    this.buffer += chunk
    let end: number
    while ((end = this.buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(this.buffer.slice(0, end)) as {id?: number; result?: Record<string, unknown>; error?: {message: string}} & Partial<CdpEvent>
      this.buffer = this.buffer.slice(end + 1)
      if (message.id !== undefined) {
        const call = this.pending.get(message.id)
        this.pending.delete(message.id)
        if (message.error) call?.reject(new Error(`${call.method}: ${message.error.message}`))
        else call?.resolve(message.result ?? {})
      } else if (message.method) {
        const event = {method: message.method, params: message.params ?? {}, ...(message.sessionId ? {sessionId: message.sessionId} : {})}
        this.events.push(event)
        for (const [index, waiter] of [...this.waiters.entries()].reverse()) {
          if (waiter.match(event)) {
            this.waiters.splice(index, 1)
            waiter.resolve(event)
          }
        }
      }
    }
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`chromium is not running (${method}): ${this.stderr}`))
    const id = this.nextId++
    const input = this.child.stdio[3] as Writable
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject, method})
      input.write(JSON.stringify({id, method, params, ...(sessionId ? {sessionId} : {})}) + '\0')
    })
  }

  /** The next event matching `match` (one already received counts only if `since` is before it). */
  waitFor(match: (event: CdpEvent) => boolean, since = this.events.length): Promise<CdpEvent> {
    const seen = this.events.slice(since).find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve) => this.waiters.push({match, resolve}))
  }

  /** A new page (tab) with the Page, Runtime and Network domains on, its events recorded. */
  async newPage(viewport = {width: 1440, height: 1000}): Promise<Page> {
    const {targetId} = (await this.send('Target.createTarget', {url: 'about:blank'})) as {targetId: string}
    const {sessionId} = (await this.send('Target.attachToTarget', {targetId, flatten: true})) as {sessionId: string}
    const page = new Page(this, sessionId)
    await Promise.all([page.send('Page.enable'), page.send('Runtime.enable'), page.send('Network.enable')])
    await page.send('Emulation.setDeviceMetricsOverride', {...viewport, deviceScaleFactor: 1, mobile: false})
    return page
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve))
      await this.send('Browser.close').catch(() => undefined)
      await exited
    }
    rmSync(this.profile, {recursive: true, force: true})
  }
}

export class Page {
  constructor(
    readonly browser: Chromium,
    readonly sessionId: string,
  ) {}

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId)
  }

  /** This page's events of `method`. */
  events(method: string): CdpEvent[] {
    return this.browser.events.filter((event) => event.sessionId === this.sessionId && event.method === method)
  }

  /** Opens `url` and waits for its load event. */
  async open(url: string): Promise<void> {
    const since = this.browser.events.length
    const loaded = this.browser.waitFor((event) => event.sessionId === this.sessionId && event.method === 'Page.loadEventFired', since)
    const {errorText} = (await this.send('Page.navigate', {url})) as {errorText?: string}
    if (errorText) throw new Error(`navigating to ${url}: ${errorText}`)
    await loaded
  }

  /** The value of `expression` in the page (awaited when it is a promise), as JSON. */
  async evaluate<T>(expression: string): Promise<T> {
    const {result, exceptionDetails} = (await this.send('Runtime.evaluate', {expression, returnByValue: true, awaitPromise: true})) as {
      result: {value?: T}
      exceptionDetails?: {text: string; exception?: {description?: string}}
    }
    if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`)
    return result.value as T
  }

  /** Types `text` into the element `selector` as a user would (focus, then key input). */
  async type(selector: string, text: string): Promise<void> {
    await this.evaluate(`document.querySelector(${JSON.stringify(selector)}).focus()`)
    await this.send('Input.insertText', {text})
    // The report filters on the next animation frame.
    await this.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))')
  }

  /** A PNG of the page (`fullPage`: all of it, not only the viewport). */
  async screenshot(fullPage = false): Promise<Buffer> {
    const size = fullPage ? ((await this.send('Page.getLayoutMetrics')) as {cssContentSize: {width: number; height: number}}).cssContentSize : undefined
    const clip = size ? {clip: {x: 0, y: 0, width: Math.ceil(size.width), height: Math.ceil(size.height), scale: 1}, captureBeyondViewport: true} : {}
    const {data} = (await this.send('Page.captureScreenshot', {format: 'png', ...clip})) as {data: string}
    return Buffer.from(data, 'base64')
  }
}
