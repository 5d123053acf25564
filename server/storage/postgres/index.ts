/**
 * PostgreSQL backend (`DATABASE_URL`): several Parley instances can share one database.
 *
 * While the database is unreachable every call rejects (appends included, so Hocuspocus refuses
 * the update and the client keeps it to resend); the pool reconnects by itself once the database
 * is back. Durability of an acknowledged append relies on PostgreSQL's `synchronous_commit`
 * (`on` by default); a warning is logged at start when the database has it off.
 */
import type { ContactStore } from '../../../core/storage/contact-types.ts'
import { PostgresContactStore } from './contacts.ts'
import type { WebhookStore } from '../../../core/storage/webhook-types.ts'
import { PostgresWebhookStore } from './webhooks.ts'
import type { Logger } from 'pino'
import type {
  ClientOwnerStore,
  DocumentStore,
  NotificationStore,
  PreferenceStore,
  DeviceStore,
  DeliveryStore,
  SearchStore,
  ModerationStore,
  Storage,
  SubjectStore,
  UserStore,
} from '../../../core/storage/types.ts'
import { PostgresDocumentStore } from './documents.ts'
import { migrate } from './migrations.ts'
import { PostgresPool } from './pool.ts'
import { PostgresClientOwnerStore } from './client-owners.ts'
import { PostgresNotificationStore } from './notifications.ts'
import { PostgresSubjectStore } from './subjects.ts'
import { PostgresUserStore } from './users.ts'
import { PostgresPreferenceStore } from './preferences.ts'
import { PostgresDeviceStore } from './devices.ts'
import { PostgresDeliveryStore } from './deliveries.ts'
import { PostgresSearchStore } from './search.ts'
import { PostgresFeedStore } from './feeds.ts'
import type { FeedStore } from '../../../core/storage/feed-types.ts'
import { PostgresModerationStore } from './moderation.ts'

export {
  POSTGRES_CONNECT_TIMEOUT_MS,
  POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  POSTGRES_IDLE_TIMEOUT_MS,
  POSTGRES_POOL_SIZE,
  POSTGRES_STATEMENT_TIMEOUT_MS,
  StorageClosedError,
} from './pool.ts'
export { MIGRATIONS } from './migrations.ts'

export interface PostgresStorageOptions {
  /** `postgres://…`; `?options=-c search_path=<schema>` selects a schema other than `public`. */
  url: string
  /** Where connection problems are reported; silent without one. */
  logger?: Logger | undefined
}

export class PostgresStorage implements Storage {
  readonly kind = 'postgres' as const
  readonly documents: DocumentStore
  readonly subjects: SubjectStore
  readonly users: UserStore
  readonly clientOwners: ClientOwnerStore
  readonly notifications: NotificationStore
  readonly preferences: PreferenceStore
  readonly devices: DeviceStore
  readonly deliveries: DeliveryStore
  readonly search: SearchStore
  readonly feeds: FeedStore
  readonly moderation: ModerationStore
  readonly webhooks: WebhookStore
  readonly contacts: ContactStore
  private readonly db: PostgresPool

  private constructor(db: PostgresPool) {
    this.db = db
    this.documents = new PostgresDocumentStore(db)
    this.subjects = new PostgresSubjectStore(db)
    this.users = new PostgresUserStore(db)
    this.clientOwners = new PostgresClientOwnerStore(db)
    this.notifications = new PostgresNotificationStore(db)
    this.preferences = new PostgresPreferenceStore(db)
    this.devices = new PostgresDeviceStore(db)
    this.deliveries = new PostgresDeliveryStore(db)
    this.search = new PostgresSearchStore(db)
    this.feeds = new PostgresFeedStore(db)
    this.moderation = new PostgresModerationStore(db)
    this.webhooks = new PostgresWebhookStore(db)
    this.contacts = new PostgresContactStore(db)
  }

  /** Connects, brings the schema up to date, and checks that commits are durable. */
  static async open(options: PostgresStorageOptions): Promise<PostgresStorage> {
    const db = new PostgresPool(options.url, options.logger)
    try {
      await migrate(db)
      const rows = await db.query<{ synchronous_commit: string }>('SHOW synchronous_commit')
      const setting = rows[0]?.synchronous_commit
      if (setting === 'off') {
        options.logger?.warn(
          { synchronous_commit: setting },
          'PostgreSQL synchronous_commit is not on: a database crash can lose updates clients saw acknowledged',
        )
      }
    } catch (error) {
      await db.end()
      throw error
    }
    return new PostgresStorage(db)
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1')
  }

  async close(): Promise<void> {
    await this.db.end()
  }
}
