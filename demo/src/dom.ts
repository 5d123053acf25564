/** A tiny DOM helper: `h('button', { class: 'x', onclick }, 'text')`. No framework. */

type Props = Record<string, string | number | boolean | ((event: Event) => void) | undefined>

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue
    if (typeof value === 'function') element.addEventListener(key.replace(/^on/, ''), value)
    else if (key === 'class') element.className = String(value)
    else element.setAttribute(key, value === true ? '' : String(value))
  }
  element.append(...children)
  return element
}

/** Replaces the children of `parent`. */
export function fill(parent: Element, ...children: Array<Node | string>): void {
  parent.replaceChildren(...children)
}

/** `12:03` for a timestamp. */
export function time(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
}
