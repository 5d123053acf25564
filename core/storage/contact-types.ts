/** How to reach a user outside the app (issue 17): the email address and locale the backend set. Never shown to other users. */

export interface UserContact {
  email: string | null
  /** A BCP 47 tag (`en`, `pt-BR`), for email templates. */
  locale: string | null
  updatedAt: number
}

export interface ContactStore {
  /** The user's contact, or null when the backend never set one. */
  get(userId: string): Promise<UserContact | null>
  /** Changes the given fields (undefined: kept, null: removed); resolves with the result. */
  put(userId: string, change: { email?: string | null; locale?: string | null }, at: number): Promise<UserContact>
  /** Records that an email went to the user at `at` (the digest window opens there); a user without a contact is left alone. */
  markEmailed(userId: string, at: number): Promise<void>
  /** When the last email went to the user, or null. */
  lastEmailedAt(userId: string): Promise<number | null>
}
