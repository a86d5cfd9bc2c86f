/** The audio's size, format and duration against a provider's rules. */

import type { AudioProbe } from '../audio/types';
import type { ProviderLimits } from '../providers/types';
import {
  capitalize,
  durationRange,
  FORMAT_LABELS,
  formatList,
  formatMegabytes,
  formatSeconds,
  unreadableSentence,
} from './messages';
import type { ValidationIssue } from './types';

/**
 * Size, and what the probe found, against a provider's rules. `probe` is undefined when the file was not
 * read (too large to be worth it); the size verdict needs no bytes.
 */
export function checkAudio(
  limits: ProviderLimits,
  sizeBytes: number,
  probe: AudioProbe | undefined,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const { title } = limits;
  const accepted = formatList(limits.formats);
  const wanted = `${accepted} audio with ${durationRange(limits)} of clear speech`;

  if (sizeBytes > limits.maxBytes) {
    const measured = formatMegabytes(sizeBytes);
    const limit = formatMegabytes(limits.maxBytes);
    // Near the limit both round to the same figure; then bytes say it.
    const detail =
      measured === limit
        ? `${sizeBytes.toLocaleString('en-US')} bytes; ${title} accepts at most ${limit} (${limits.maxBytes.toLocaleString('en-US')} bytes)`
        : `${measured}; ${title} accepts at most ${limit}`;
    issues.push({
      code: 'file_too_large',
      message: `The file is ${detail}. Upload a shorter or more compressed recording.`,
    });
  }
  if (sizeBytes === 0 || probe?.kind === 'empty') {
    issues.push({ code: 'empty_file', message: `The file is empty (0 bytes). Upload ${wanted}.` });
    return issues;
  }
  if (!probe) return issues;

  switch (probe.kind) {
    case 'unreadable':
      issues.push({
        code: 'unreadable_audio',
        message: `${unreadableSentence(probe.reason)} Upload ${wanted}.`,
      });
      break;
    case 'unsupported':
      issues.push({
        code: 'unsupported_format',
        message: `${capitalize(probe.description)} is not accepted by ${title}; use ${accepted}.`,
      });
      break;
    case 'audio': {
      if (!limits.formats.includes(probe.format)) {
        issues.push({
          code: 'unsupported_format',
          message: `${FORMAT_LABELS[probe.format]} audio is not accepted by ${title}; use ${accepted}.`,
        });
      }
      const { durationSec } = probe;
      if (durationSec < limits.minDurationSec) {
        issues.push({
          code: 'audio_too_short',
          message: `The audio is ${formatSeconds(durationSec, limits.minDurationSec)} s long; ${title} needs ${durationRange(limits)} of speech. Upload a longer recording.`,
        });
      } else if (durationSec > limits.maxDurationSec) {
        issues.push({
          code: 'audio_too_long',
          message: `The audio is ${formatSeconds(durationSec, limits.maxDurationSec)} s long; ${title} needs ${durationRange(limits)} of speech. Trim it to at most ${limits.maxDurationSec} s.`,
        });
      }
      break;
    }
  }
  return issues;
}
