import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validate, compileErrors } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020';
import { ChangeRequestBodySchema } from '../../shared/domain/changeRequest';
import { openApiDocument } from '../../shared/entrypoints/http/openApi';
import { loadFunctionApp, triggerOf } from '../../shared/local/functionsRegistry';
import { APP_ROOT } from '../support/localHost';

/** A route as `METHOD /path`, its {params} unnamed: a function may name a segment differently from the document. */
const routeKey = (method: string, route: string) => `${method.toUpperCase()} /${route.replace(/^\//, '').replace(/\{[^}]+\}/g, '{}')}`;

function registeredRoutes(): string[] {
  process.env.AzureWebJobsStorage ??= 'UseDevelopmentStorage=true';
  return loadFunctionApp(APP_ROOT)
    .map((registration) => triggerOf(registration))
    .filter((trigger) => trigger.type === 'httpTrigger')
    .flatMap((trigger) => (trigger.methods ?? []).map((method) => routeKey(method, trigger.route ?? '')))
    .sort();
}

function documentedRoutes(document: any): string[] {
  return Object.entries(document.paths as Record<string, Record<string, unknown>>)
    .flatMap(([route, operations]) => Object.keys(operations).map((method) => routeKey(method, route)))
    .sort();
}

/** The README's curl commands that send a body: method, path under $B, and the body. */
/** The README's request bodies, with the status each one's `# -> NNN` comment states (400: refused by the schema). */
function readmeBodies(): Array<{ method: string; path: string; body: unknown; refused: boolean }> {
  const readme = readFileSync(path.join(APP_ROOT, 'README.md'), 'utf8').replace(/\\\n\s*/g, ' ');
  return readme
    .split('\n')
    .filter((line) => /(^|\$\()curl /.test(line.trim()) && line.includes(" -d '"))
    .map((line) => {
      const method = /-X\s+(\w+)/.exec(line)?.[1] ?? 'POST';
      const route = /\$B(\/[^\s"?]*)/.exec(line)?.[1] ?? '';
      const body = JSON.parse(/ -d '([^']*)'/.exec(line)?.[1] ?? 'null') as unknown;
      return { method, path: route, body, refused: /# -> 400 validation_failed/.test(line) };
    });
}

/** The document's request body schema for a concrete path (its %-escapes decoded) and method. */
function requestSchemaFor(document: any, method: string, concrete: string): unknown {
  const segments = decodeURIComponent(concrete).split('/');
  const template = Object.keys(document.paths).find((candidate) => {
    const parts = candidate.split('/');
    return parts.length === segments.length && parts.every((part, i) => part.startsWith('{') || part === segments[i]);
  });
  assert.ok(template, `the document has no path for ${concrete}`);
  const schema = document.paths[template][method.toLowerCase()]?.requestBody?.content?.['application/json']?.schema;
  assert.ok(schema, `the document has no request body for ${method} ${template}`);
  return schema;
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 by @readme/openapi-parser, and the validator does catch a broken one', async () => {
    const result = await validate(structuredClone(openApiDocument()) as any);
    assert.equal(result.valid, true, result.valid ? '' : compileErrors(result));
    assert.equal(result.specification, 'OpenAPI');

    // A path parameter the operation does not declare: the kind of slip a hand edit of ROUTES makes.
    const broken = structuredClone(openApiDocument()) as any;
    broken.paths['/change-requests/{id}'].get.parameters = [];
    assert.equal((await validate(broken)).valid, false);
  });

  it('lists exactly the routes and methods the function app registers', () => {
    const registered = registeredRoutes();
    const documented = documentedRoutes(openApiDocument());

    const undocumented = registered.filter((route) => !documented.includes(route));
    const unregistered = documented.filter((route) => !registered.includes(route));
    assert.deepEqual({ undocumented, unregistered }, { undocumented: [], unregistered: [] });
    // The comparison is not vacuous: the routes of every layer are there.
    for (const route of [
      'POST /change-requests',
      'GET /change-requests/{}',
      'DELETE /topology/pools/{}',
      'GET /openapi.json',
      'GET /docs/{}',
    ])
      assert.ok(registered.includes(route) && documented.includes(route), route);
  });

  it('gives each operation its roles (security + x-required-roles) and the problems it answers, with codes', () => {
    const document = openApiDocument() as any;
    const submit = document.paths['/change-requests'].post;
    assert.deepEqual(submit.security, [{ bearer: ['submitter'] }]);
    assert.deepEqual(submit['x-required-roles'], ['submitter']);
    const codeOf = (status: number) => submit.responses[status].content['application/problem+json'].schema.allOf[1].properties.code.enum;
    assert.deepEqual(codeOf(400), ['validation_failed', 'malformed_json', 'body_required']);
    assert.deepEqual(codeOf(401), ['unauthenticated']);
    assert.deepEqual(codeOf(413), ['body_too_large']);
    assert.deepEqual(codeOf(422), ['idempotency_key_reused']);
    assert.deepEqual(codeOf(429), ['rate_limited']);
    assert.ok(submit.responses[202].headers.Location && submit.responses[202].headers['Retry-After']);
    assert.deepEqual(
      document.paths['/change-requests/{id}/cancel'].post.responses[409].content['application/problem+json'].schema.allOf[1].properties.code
        .enum,
      ['change_request_settled'],
    );
    assert.deepEqual(document.paths['/health'].get.security, []);
    assert.deepEqual(document.paths['/docs'].get.security, []);
    assert.equal(document.components.securitySchemes.bearer.scheme, 'bearer');
    // The change request as stored, with its W3C trace.
    assert.ok(document.components.schemas.ChangeRequest.properties.traceContext);
    assert.deepEqual(document.servers, [{ url: '/api' }]);
  });

  // Validated with Ajv (draft 2020-12, the dialect of OpenAPI 3.1), the JSON Schema validator the
  // OpenAPI validator itself is built on: the document's schemas, not the zod ones they came from.
  it("accepts the README's example bodies and rejects bodies the API rejects", () => {
    const document = openApiDocument() as any;
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const examples = readmeBodies();
    assert.ok(examples.filter((example) => !example.refused).length >= 5, `found ${examples.length} README bodies`);
    assert.ok(
      examples.some((example) => example.refused),
      'the README shows a body the schema refuses',
    );
    for (const example of examples) {
      const check = ajv.compile(requestSchemaFor(document, example.method, example.path) as object);
      assert.equal(
        check(example.body),
        !example.refused,
        `${example.method} ${example.path} ${JSON.stringify(example.body)}: ${ajv.errorsText(check.errors)}`,
      );
    }

    const submitSchema = ajv.compile(requestSchemaFor(document, 'POST', '/change-requests') as object);
    const refused = [
      { operation: 'update', sipAddress: 'sip:a@contoso.com' },
      { operation: 'create', sipAddress: 'sip:a@contoso.com' },
      { operation: 'delete', sipAddress: 'sip:a@contoso.com', poolFqdn: 'pcpool.contoso.com' },
      { operation: 'create', sipAddress: 'sip:a@contoso.com', poolFqdn: 'pcpool.contoso.com', displayName: '' },
      { operation: 'create', sipAddress: 'sip:a@contoso.com', poolFqdn: 'pcpool.contoso.com', replaceLegacyUser: 'yes' },
    ];
    for (const body of refused) {
      assert.equal(ChangeRequestBodySchema.safeParse(body).success, false, `the API accepts ${JSON.stringify(body)}`);
      assert.equal(submitSchema(body), false, `the document accepts ${JSON.stringify(body)}`);
    }
  });
});
