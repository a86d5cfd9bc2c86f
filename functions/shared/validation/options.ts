/** The upload's name and options (S3 metadata, `POST /uploads`, CLI flags) against a provider's rules. */

import type { ProviderLimits } from '../providers/types';
import type { ValidationIssue } from './types';

/** Optional upload metadata (S3 object metadata, or CLI flags). */
export interface UploadOptions {
  displayName?: string;
  model?: string;
  language?: string;
  accent?: string;
  description?: string;
  /** Comma-separated. */
  tags?: string;
  /** `auto`: cut a sample longer than the provider's window to its best window of speech; `off`. */
  trim?: string;
  /** The speaker's consent on record (`consent-id`). */
  consentId?: string;
}

export const TRIM_MODES = ['off', 'auto'] as const;
export type TrimMode = (typeof TRIM_MODES)[number];

/**
 * With `trim=auto`, a file over the provider's size limit is still read (up to this) and judged by its cut:
 * a minutes-long WAV becomes a 15 s one. It bounds what one upload holds in the clone function's memory
 * (the file and its decoded mono samples, about as large again).
 */
export const TRIM_SOURCE_MAX_BYTES = 32 * 1024 * 1024;

/** The largest file an upload with `trim` may be (its cut must still be within the provider's limit). */
export function largestUploadBytes(limits: ProviderLimits, trim: TrimMode): number {
  return trim === 'auto' ? Math.max(limits.maxBytes, TRIM_SOURCE_MAX_BYTES) : limits.maxBytes;
}

export function isTrimMode(value: string): value is TrimMode {
  return (TRIM_MODES as readonly string[]).includes(value);
}

/** Options after defaults and normalisation, ready for the provider call and the voice record. */
export interface ResolvedOptions {
  readonly displayName: string;
  readonly model: string;
  readonly language?: string;
  readonly accent?: string;
  readonly description?: string;
  readonly tags: string[];
  readonly trim: TrimMode;
}

// Control characters (line breaks, tabs, NUL, …) cannot be shown in a voice list.
const CONTROL_CHARACTER = /\p{Cc}/u;
// Enough of a rejected name to recognise it in a message.
const NAME_PREVIEW_CHARACTERS = 40;

function preview(name: string): string {
  const codePoints = [...name];
  return codePoints.length > NAME_PREVIEW_CHARACTERS
    ? `${codePoints.slice(0, NAME_PREVIEW_CHARACTERS).join('')}…`
    : name;
}

function trimmedOrUndefined(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Name, model, language and tags against a provider's rules, with defaults applied. */
export function checkOptions(
  limits: ProviderLimits,
  options: UploadOptions & { displayName: string },
): { issues: ValidationIssue[]; resolved: ResolvedOptions } {
  const displayName = options.displayName.trim();
  const model = trimmedOrUndefined(options.model) ?? limits.models.default;
  const language = trimmedOrUndefined(options.language);
  const trimOption = trimmedOrUndefined(options.trim)?.toLowerCase() ?? 'off';
  const trim = isTrimMode(trimOption) ? trimOption : undefined;
  const issues = [
    ...nameIssues(limits, displayName),
    ...modelIssues(limits, model),
    ...languageIssues(limits, language),
    ...(trim ? [] : [trimIssue(options.trim)]),
  ];
  const tags = (options.tags ?? '')
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);
  const accent = trimmedOrUndefined(options.accent);
  const description = trimmedOrUndefined(options.description);
  const resolved: ResolvedOptions = {
    displayName,
    model,
    tags,
    trim: trim ?? 'off',
    ...(language ? { language } : {}),
    ...(accent ? { accent } : {}),
    ...(description ? { description } : {}),
  };
  return { issues, resolved };
}

function nameIssues(limits: ProviderLimits, displayName: string): ValidationIssue[] {
  const { title } = limits;
  const { minChars, maxChars } = limits.name;
  const issues: ValidationIssue[] = [];
  // Providers count Unicode code points ("é" is 1 even when it takes 2 UTF-16 units, an emoji is 1).
  const length = [...displayName].length;
  const howToSet = 'Set the "display-name" metadata on the upload (or rename the file)';
  if (length < minChars) {
    issues.push({
      code: 'invalid_name',
      message: `The voice name is empty; ${title} needs ${minChars}–${maxChars} characters. ${howToSet}.`,
    });
  } else if (length > maxChars) {
    issues.push({
      code: 'invalid_name',
      message: `The voice name "${preview(displayName)}" is ${length} characters long; ${title} allows at most ${maxChars}. ${howToSet} to a shorter name.`,
    });
  }
  if (CONTROL_CHARACTER.test(displayName)) {
    issues.push({
      code: 'invalid_name',
      message: `The voice name contains control characters (such as line breaks or tabs), which ${title} cannot show. ${howToSet} without them.`,
    });
  }
  return issues;
}

function modelIssues(limits: ProviderLimits, model: string): ValidationIssue[] {
  const { title } = limits;
  const accepted = limits.models.accepted;
  const rejection = Object.hasOwn(limits.models.rejected, model) ? limits.models.rejected[model] : undefined;
  if (rejection !== undefined) {
    return [
      {
        code: 'invalid_option',
        message: `Model "${model}" is not accepted by ${title}: ${rejection.replace(/\.?$/, '.')} Set the "model" metadata to one of: ${accepted.join(', ')}.`,
      },
    ];
  }
  if (!accepted.includes(model)) {
    return [
      {
        code: 'invalid_option',
        message: `Model "${model}" is not one ${title} clones with; set the "model" metadata to one of: ${accepted.join(', ')} (default ${limits.models.default}).`,
      },
    ];
  }
  return [];
}

function languageIssues(limits: ProviderLimits, language: string | undefined): ValidationIssue[] {
  if (language === undefined || limits.language.pattern.test(language)) return [];
  return [
    {
      code: 'invalid_option',
      message: `Language "${language}" is not valid for ${limits.title}; set the "language" metadata to ${limits.language.description}.`,
    },
  ];
}

function trimIssue(trim: string | undefined): ValidationIssue {
  return {
    code: 'invalid_option',
    message: `Trim "${trim}" is not an option; set the "trim" metadata to "auto" (cut the best window of speech) or "off".`,
  };
}
