import { triggerOf, type Registration } from './functionsRegistry';

/** The methods an HTTP trigger that names none accepts. */
const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** An HTTP trigger's route compiled for matching: its methods (upper case) and a pattern capturing its {params}. */
export interface Route {
  registration: Registration;
  methods: string[];
  pattern: RegExp;
  params: string[];
}

/** Where a request lands: a route with its path captures (still percent-encoded), or why none serves it. */
export type RouteMatch =
  { kind: 'found'; route: Route; captures: string[] } | { kind: 'not-found' } | { kind: 'method-not-allowed'; allow: string[] };

/** An HTTP route as the start-up banner lists it. */
export interface RouteSummary {
  name: string;
  methods: string[];
  path: string;
}

/**
 * Compiles a trigger's route template: under the route prefix, case-insensitive and with an optional
 * trailing slash as in the Functions host. Each `{name}` matches one path segment; unlike the host,
 * constraints (`{id:int}`), `?` and `{*catchAll}` are not honoured, as no function here uses them.
 */
export function compileRoute(prefix: string, registration: Registration): Route {
  const trigger = triggerOf(registration);
  const template = trigger.route ?? registration.name;
  const params: string[] = [];
  const source = template
    .split('/')
    .map((segment) =>
      segment.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\{\*?([A-Za-z0-9_]+)(?::[^}]*)?\??\}/g, (_m, name: string) => {
        params.push(name);
        return '([^/]+)';
      }),
    )
    .join('/');
  return {
    registration,
    methods: (trigger.methods ?? ALL_METHODS).map((m) => m.toUpperCase()),
    pattern: new RegExp(`^/${prefix ? `${prefix}/` : ''}${source}/?$`, 'i'),
    params,
  };
}

/** Finds the route serving a method on a path: 404 when no route has the path, 405 (with Allow) when none takes the method. */
export function matchRoute(routes: Route[], method: string, pathname: string): RouteMatch {
  const matching = routes.map((route) => ({ route, match: route.pattern.exec(pathname) })).filter((candidate) => candidate.match !== null);
  if (matching.length === 0) return { kind: 'not-found' };
  const hit = matching.find((candidate) => candidate.route.methods.includes(method));
  if (!hit?.match) return { kind: 'method-not-allowed', allow: [...new Set(matching.flatMap((candidate) => candidate.route.methods))] };
  return { kind: 'found', route: hit.route, captures: hit.match.slice(1) };
}

/** The route's {params} from its path captures, percent-decoded; undefined when a capture is not valid percent-encoding. */
export function decodeParams(route: Route, captures: string[]): Record<string, string> | undefined {
  try {
    return Object.fromEntries(route.params.map((name, index) => [name, decodeURIComponent(captures[index] ?? '')]));
  } catch {
    return undefined;
  }
}

/** The HTTP triggers' routes with the prefix they are served under, for the start-up banner. */
export function summarizeRoutes(prefix: string, registrations: Registration[]): RouteSummary[] {
  return registrations.map((registration) => {
    const trigger = triggerOf(registration);
    return { name: registration.name, methods: trigger.methods ?? ['*'], path: `/${prefix}/${trigger.route ?? registration.name}` };
  });
}
