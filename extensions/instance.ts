/**
 * The Hocuspocus instance, as `onConfigure` hands it over: for the parts built before it (the
 * inbox projector and the mention sweep open direct connections, revocation looks up loaded
 * documents, metrics count connections). Install it among the extensions; used before Hocuspocus
 * is configured, {@link InstanceLink.hocuspocus} throws and the counts read 0.
 */
import type { Extension, Hocuspocus, onConfigurePayload } from '@hocuspocus/server'
import type { ParleyContext } from './context.ts'

export class InstanceLink implements Extension {
  readonly extensionName = 'parley-instance'
  private instance: Hocuspocus<ParleyContext> | undefined

  async onConfigure({ instance }: onConfigurePayload): Promise<void> {
    this.instance = instance
  }

  /** The configured instance; throws before `onConfigure`. */
  get hocuspocus(): Hocuspocus<ParleyContext> {
    if (!this.instance) throw new Error('the Hocuspocus instance is not configured yet')
    return this.instance
  }

  /** Open document connections (0 before `onConfigure`). */
  connections(): number {
    return this.instance?.getConnectionsCount() ?? 0
  }

  /** Documents held in memory (0 before `onConfigure`). */
  documents(): number {
    return this.instance?.getDocumentsCount() ?? 0
  }
}
