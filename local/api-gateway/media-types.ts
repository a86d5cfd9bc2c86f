/** `audio/wav; codecs=1` matches `audio/wav`, `audio/*` and `*\/*`. */
export function matchesMediaType(value: string, patterns: readonly string[]): boolean {
  const mediaType = (value.split(';')[0] ?? '').trim().toLowerCase();
  if (mediaType.length === 0) return false;
  return patterns.some((pattern) => {
    const normalized = pattern.trim().toLowerCase();
    if (normalized === '*/*') return true;
    if (normalized.endsWith('/*')) return mediaType.startsWith(normalized.slice(0, -1));
    return mediaType === normalized;
  });
}
