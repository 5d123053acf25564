/** Reports of comments (contract additions, "Moderation"): the threshold at which moderators hear of them. */

/** Distinct reporters after which the subject's moderators get one `moderation` notification (`PARLEY_REPORT_THRESHOLD`). */
export const DEFAULT_REPORT_THRESHOLD = 3

/** Largest `PARLEY_REPORT_THRESHOLD` the configuration accepts. */
export const MAX_REPORT_THRESHOLD = 10_000
