/** The deployed REST API's resources, and a request target matched against them. */
import { API_ROUTES, STREAMED_ROUTES } from '../../functions/shared/contract';

export interface Route {
  readonly resource: string;
  readonly segments: readonly string[];
  readonly methods: readonly string[];
}

/** Whether `method` on the route streams its response (STREAMED_ROUTES, as the stack integrates them). */
export function streams(route: Route, method: string): boolean {
  return STREAMED_ROUTES.some(
    (streamed) => streamed.resource === route.resource && streamed.method === method,
  );
}

/** The resources and methods of the deployed REST API (API_ROUTES, README "HTTPS API"). */
const ROUTES: readonly Route[] = [...new Set(API_ROUTES.map((apiRoute) => apiRoute.resource))].map(
  (resource) =>
    route(
      resource,
      API_ROUTES.filter((apiRoute) => apiRoute.resource === resource).map((apiRoute) => apiRoute.method),
    ),
);

function route(resource: string, methods: readonly string[]): Route {
  return { resource, segments: resource.split('/').slice(1), methods };
}

export function splitTarget(target: string): { rawPath: string; rawQuery: string } {
  // An absolute-form target (`GET http://host/path`) comes from clients that treat us as a proxy.
  const relative = target.startsWith('/') ? target : safeRelative(target);
  const withoutFragment = relative.split('#')[0] ?? '';
  const queryStart = withoutFragment.indexOf('?');
  if (queryStart < 0) return { rawPath: withoutFragment, rawQuery: '' };
  return { rawPath: withoutFragment.slice(0, queryStart), rawQuery: withoutFragment.slice(queryStart + 1) };
}

function safeRelative(target: string): string {
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return '/';
  }
}

/** The path without the stage prefix, which requests may or may not carry (`/v1/voices`, `/voices`). */
export function withoutStage(rawPath: string, stagePrefix: string): string {
  return rawPath === stagePrefix
    ? '/'
    : rawPath.startsWith(`${stagePrefix}/`)
      ? rawPath.slice(stagePrefix.length)
      : rawPath;
}

export function matchRoute(
  path: string,
): { route: Route; rawParameters: Record<string, string> } | undefined {
  const segments = path.split('/').slice(1);
  for (const candidate of ROUTES) {
    if (candidate.segments.length !== segments.length) continue;
    const rawParameters: Record<string, string> = {};
    const matches = candidate.segments.every((templateSegment, index) => {
      const segment = segments[index] ?? '';
      if (templateSegment.startsWith('{') && templateSegment.endsWith('}')) {
        rawParameters[templateSegment.slice(1, -1)] = segment;
        return segment.length > 0;
      }
      return segment === templateSegment;
    });
    if (matches) return { route: candidate, rawParameters };
  }
  return undefined;
}

/** Throws URIError on malformed percent-encoding. Segments were split before decoding, so `%2F` stays in. */
export function decodePathParameters(raw: Record<string, string>): Record<string, string> | null {
  const entries = Object.entries(raw);
  if (entries.length === 0) return null;
  return Object.fromEntries(entries.map(([name, value]) => [name, decodeURIComponent(value)]));
}
