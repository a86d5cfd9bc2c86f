/** The audio's size, format and duration against a provider's rules. */

import type { AudioFormat, AudioProbe } from '../audio/types';
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
 * Size, and what the probe found, against a provider's rules. `probe` is undefined when nothing is known
 * of the bytes; for an oversize object it is what its header showed (header-probe.ts).
 */
export function checkAudio(
  limits: ProviderLimits,
  sizeBytes: number,
  probe: AudioProbe | undefined,
): ValidationIssue[] {
  const issues = sizeIssues(limits, sizeBytes);
  const accepted = formatList(limits.formats);
  const wanted = `${accepted} audio with ${durationRange(limits)} of clear speech`;
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
        message: `${capitalize(probe.description)} is not accepted by ${limits.title}; use ${accepted}.`,
      });
      break;
    case 'header-only':
      issues.push(...checkFormat(limits, probe.format));
      break;
    case 'audio':
      issues.push(...checkFormat(limits, probe.format), ...durationIssues(limits, probe));
      break;
  }
  return issues;
}

function sizeIssues(limits: ProviderLimits, sizeBytes: number): ValidationIssue[] {
  if (sizeBytes <= limits.maxBytes) return [];
  const { title } = limits;
  const measured = formatMegabytes(sizeBytes);
  const limit = formatMegabytes(limits.maxBytes);
  // Near the limit both round to the same figure; then bytes say it.
  const detail =
    measured === limit
      ? `${sizeBytes.toLocaleString('en-US')} bytes; ${title} accepts at most ${limit} (${limits.maxBytes.toLocaleString('en-US')} bytes)`
      : `${measured}; ${title} accepts at most ${limit}`;
  return [
    {
      code: 'file_too_large',
      message: `The file is ${detail}. Upload a shorter or more compressed recording.`,
    },
  ];
}

function durationIssues(
  limits: ProviderLimits,
  probe: Extract<AudioProbe, { kind: 'audio' }>,
): ValidationIssue[] {
  const { title } = limits;
  const { durationSec } = probe;
  // An oversize file's length is what its header states, or an estimate from an MP3's bitrate.
  const about = probe.durationFrom === 'estimate' ? 'about ' : '';
  if (durationSec < limits.minDurationSec) {
    return [
      {
        code: 'audio_too_short',
        message: `The audio is ${about}${formatSeconds(durationSec, limits.minDurationSec)} s long; ${title} needs ${durationRange(limits)} of speech. Upload a longer recording.`,
      },
    ];
  }
  if (durationSec > limits.maxDurationSec) {
    return [
      {
        code: 'audio_too_long',
        message: `The audio is ${about}${formatSeconds(durationSec, limits.maxDurationSec)} s long; ${title} needs ${durationRange(limits)} of speech. Trim it to at most ${limits.maxDurationSec} s.`,
      },
    ];
  }
  return [];
}

function checkFormat(limits: ProviderLimits, format: AudioFormat): ValidationIssue[] {
  if (limits.formats.includes(format)) return [];
  const message = `${FORMAT_LABELS[format]} audio is not accepted by ${limits.title}; use ${formatList(limits.formats)}.`;
  return [{ code: 'unsupported_format', message }];
}
