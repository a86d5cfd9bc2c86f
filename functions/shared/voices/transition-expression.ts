/**
 * The expressions of VoiceRepository.transition, the conditional write every status change goes through
 * (repository.ts): what it sets and removes, and the condition it holds under (status, lease, last use).
 */

import type { VoiceChanges } from './repository';
import type { VoiceStatus } from './status';

/** What VoiceRepository.transition writes, and under which condition. */
export interface TransitionOptions {
  readonly from: readonly VoiceStatus[];
  readonly to: VoiceStatus;
  /** The lease this attempt holds; without one (the API's writes) only the status is checked. */
  readonly token?: string;
  readonly changes?: VoiceChanges;
  readonly processing?: Readonly<Record<string, unknown>>;
  readonly releaseLease?: boolean;
  /**
   * Only while the voice's `usage.lastUsedAt` is still this (null: it has never spoken): the retention
   * sweep's guard against deleting a voice used since it was listed.
   */
  readonly lastUsedAt?: string | null;
  readonly now: Date;
}

/** A transition's update and condition expressions, with their attribute names and values. */
export function transitionExpression(options: TransitionOptions) {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = { ':to': options.to, ':updatedAt': options.now.toISOString() };
  const touchesProcessing =
    options.token !== undefined || options.releaseLease || Object.keys(options.processing ?? {}).length > 0;
  if (touchesProcessing) names['#processing'] = 'processing';
  if (options.token !== undefined || options.releaseLease) names['#leaseToken'] = 'leaseToken';
  if (options.token !== undefined) values[':token'] = options.token;
  const sets = ['#status = :to', 'updatedAt = :updatedAt'];
  const removes: string[] = [];
  let index = 0;
  // A null change removes the attribute; `status` and `voiceId` are never changed this way.
  const assign = (prefix: 'a' | 'p', attribute: string, value: unknown, path: (name: string) => string) => {
    const name = `#${prefix}${index}`;
    names[name] = attribute;
    if (value === null || value === undefined) removes.push(path(name));
    else {
      values[`:${prefix}${index}`] = value;
      sets.push(`${path(name)} = :${prefix}${index}`);
    }
    index += 1;
  };
  for (const [attribute, value] of Object.entries(options.changes ?? {})) {
    if (value === undefined || attribute === 'status' || attribute === 'voiceId') continue;
    assign('a', attribute, value, (name) => name);
  }
  for (const [attribute, value] of Object.entries(options.processing ?? {})) {
    assign('p', attribute, value, (name) => `#processing.${name}`);
  }
  if (options.releaseLease) {
    names['#leaseUntil'] = 'leaseUntil';
    removes.push('#processing.#leaseToken', '#processing.#leaseUntil');
  }
  const conditions = transitionConditions(options, names, values);
  return { names, values, sets, removes, conditions };
}

/** The status is one of `from`, the lease is still ours, the voice has not spoken since (when asked). */
function transitionConditions(
  options: TransitionOptions,
  names: Record<string, string>,
  values: Record<string, unknown>,
): string[] {
  const fromNames = options.from.map((_, position) => `:from${position}`);
  options.from.forEach((status, position) => {
    values[`:from${position}`] = status;
  });
  const conditions = [`#status IN (${fromNames.join(', ')})`];
  if (options.token !== undefined) conditions.push('#processing.#leaseToken = :token');
  if (options.lastUsedAt !== undefined) {
    names['#usage'] = 'usage';
    names['#lastUsedAt'] = 'lastUsedAt';
    if (options.lastUsedAt === null) conditions.push('attribute_not_exists(#usage.#lastUsedAt)');
    else {
      values[':lastUsedAt'] = options.lastUsedAt;
      conditions.push('#usage.#lastUsedAt = :lastUsedAt');
    }
  }
  return conditions;
}
