/**
 * The voice status machine, in one place: the statuses, every allowed move, and the sets the pipeline and
 * the API decide by. Every conditional write of a status (VoiceRepository.transition) is checked against
 * TRANSITIONS, so a move that is not listed here fails loudly instead of writing. docs/status-machine.md
 * draws it.
 */

export const VOICE_STATUSES = [
  'received',
  'validating',
  'rejected',
  'cloning',
  'ready',
  'failed',
  'duplicate',
  'deleting',
  'deleted',
] as const;
export type VoiceStatus = (typeof VOICE_STATUSES)[number];

/**
 * From each status, the statuses it may become. Staying in a status is a move too where listed: the
 * pipeline records a retryable problem or new bookkeeping without changing the status.
 */
export const TRANSITIONS: Readonly<Record<VoiceStatus, readonly VoiceStatus[]>> = {
  // A new upload's record, before any delivery has taken its lease.
  received: ['received', 'validating'],
  validating: ['validating', 'rejected', 'duplicate', 'cloning', 'failed'],
  cloning: ['cloning', 'ready', 'failed'],
  // A retryable failure is taken up again by a later (or redriven) delivery; any failure may be deleted.
  failed: ['validating', 'deleting'],
  rejected: ['deleting'],
  ready: ['deleting'],
  duplicate: ['deleting'],
  // A deletion that stopped half-way carries on.
  deleting: ['deleting', 'deleted'],
  deleted: [],
};

/** Whether `from` may become `to`. */
export function mayMove(from: VoiceStatus, to: VoiceStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Every status that may become `to`, in the order of VOICE_STATUSES. */
export function statusesThatMayBecome(to: VoiceStatus): readonly VoiceStatus[] {
  return VOICE_STATUSES.filter((from) => mayMove(from, to));
}

/** The pipeline is working on an upload in these statuses: the API refuses to delete it meanwhile. */
export const IN_PROGRESS_STATUSES: ReadonlySet<VoiceStatus> = new Set(['received', 'validating', 'cloning']);

/** The pipeline has finished with an upload in every other status (`failed` only unless it is retryable). */
export const FINAL_STATUSES: ReadonlySet<VoiceStatus> = new Set(
  VOICE_STATUSES.filter((status) => !IN_PROGRESS_STATUSES.has(status)),
);

/**
 * The final statuses a delivery takes up again when the record's error is retryable (`failed`): the final
 * statuses that may move back into work.
 */
export const RETRIED_WHEN_RETRYABLE_STATUSES: ReadonlySet<VoiceStatus> = new Set(
  VOICE_STATUSES.filter(
    (status) => FINAL_STATUSES.has(status) && TRANSITIONS[status].some((to) => IN_PROGRESS_STATUSES.has(to)),
  ),
);

/** Statuses whose record a delivery takes up again: unfinished work, and a failure time may fix. */
export function isResumable(record: {
  readonly status: VoiceStatus;
  readonly error?: { readonly retryable: boolean } | null;
}): boolean {
  return (
    !FINAL_STATUSES.has(record.status) ||
    (RETRIED_WHEN_RETRYABLE_STATUSES.has(record.status) && record.error?.retryable === true)
  );
}

/** Statuses a voice can be deleted from (DELETE /voices/{voiceId}). */
export const DELETABLE_STATUSES: readonly VoiceStatus[] = statusesThatMayBecome('deleting');

/**
 * Gone, or going: speech answers 410, and GET /voices leaves these out unless asked for one of them by
 * `status` (`status=deleting`, `status=deleted`).
 */
export const DELETED_STATUSES: ReadonlySet<VoiceStatus> = new Set(['deleting', 'deleted']);

/**
 * Statuses whose owner made a voice from the audio: an audio claim held by any other status may be taken
 * over by a byte-identical upload.
 */
export const VOICE_MADE_STATUSES: ReadonlySet<VoiceStatus> = new Set(['ready', 'duplicate']);

/**
 * Final statuses that made no voice (`rejected`, `failed`): the record's `error` says why, and a deletion
 * keeps it.
 */
export const ENDED_WITHOUT_VOICE_STATUSES: ReadonlySet<VoiceStatus> = new Set(
  [...FINAL_STATUSES].filter((status) => !VOICE_MADE_STATUSES.has(status) && !DELETED_STATUSES.has(status)),
);

/**
 * Final statuses with no clone of their own (`rejected`, `failed`, `duplicate`): only the upload's audio
 * is kept, and the retention sweep deletes it `rejectedDays` after the upload ended.
 */
export const WITHOUT_OWN_CLONE_STATUSES: ReadonlySet<VoiceStatus> = new Set([
  ...ENDED_WITHOUT_VOICE_STATUSES,
  'duplicate',
]);

/**
 * Statuses whose voice may still have its clone at the provider (`ready`, and `deleting` until the
 * deletion reaches the provider): local mode gives these back to its simulators after a restart.
 */
export const CLONE_HELD_STATUSES: ReadonlySet<VoiceStatus> = new Set(['ready', 'deleting']);
