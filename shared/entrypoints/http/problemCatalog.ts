/**
 * What every code the service answers with means, for people: GET /api/problems/{code} renders one
 * entry. A problem document's `type` is that page's URL; a change request's `reason.code` and an
 * audit record's outcome code name the same entries. test/unit/entrypoints/http/problemPage.test.ts
 * fails when a code in shared/domain (ErrorCode, RejectionCode, FailureCode, TopologyCode) or one of
 * the local host's own codes has no entry here.
 */
export interface ProblemExplanation {
  /** A short title, as a heading. */
  title: string;
  /** The HTTP status a problem document with this code has; null for a code that only names an outcome (a change request's reason). */
  status: number | null;
  /** Where the code appears, when not only as a problem document's `code`. */
  appearsIn?: string;
  /** What happened. */
  meaning: string;
  /** What the caller can do about it. */
  action: string;
}

const AS_REASON = "a change request's reason.code (status rejected) and its audit record; a dry run (?dryRun=true) predicts it";
const AS_FAILURE = "a change request's reason.code (status failed) and its audit record";
const AS_TOPOLOGY = 'a topology change (PUT or DELETE under /api/topology) refused by a rule, and its audit record';

export const PROBLEM_CATALOG: Readonly<Record<string, ProblemExplanation>> = {
  // ErrorCode: the HTTP edge and the service's own failures.
  validation_failed: {
    title: 'The request is invalid',
    status: 400,
    meaning:
      'A path segment, query parameter, header or body field breaks a rule. The errors member names each one (a JSON pointer and its location) and the rule it breaks.',
    action: 'Correct each field the errors list names and send the request again.',
  },
  unauthenticated: {
    title: 'Authentication is required',
    status: 401,
    meaning: 'The request carries no credential, or one the service does not accept. WWW-Authenticate says which scheme to use.',
    action: 'Send Authorization: Bearer <API key> (AUTH_MODE=keys), or sign in through App Service authentication in Azure.',
  },
  forbidden: {
    title: 'The caller lacks the role',
    status: 403,
    meaning: "The credential is valid, but its principal holds none of the roles this route needs (see the README's security model).",
    action: 'Use a key or identity with a role the route accepts, or ask an operator to grant one.',
  },
  body_required: {
    title: 'A JSON body is required',
    status: 400,
    meaning: 'The route reads a JSON object from the body, and the body was empty.',
    action: 'Send the JSON object the route documents, with Content-Type: application/json.',
  },
  malformed_json: {
    title: 'The body is not valid JSON',
    status: 400,
    meaning: 'The body does not parse as JSON, or is not UTF-8.',
    action: 'Send well-formed UTF-8 JSON.',
  },
  body_too_large: {
    title: 'The body is too large',
    status: 413,
    meaning: 'The request body is larger than the route accepts (64 KiB for the API; 4 MiB at the local host).',
    action: 'Send a smaller body; a change request is a few hundred bytes.',
  },
  message_too_large: {
    title: 'The message is too large for the transport',
    status: 413,
    meaning: 'The change request, as a queue message, is larger than the message transport accepts.',
    action: 'Shorten the longest fields (the display name) and submit again.',
  },
  unsupported_media_type: {
    title: 'The body must be JSON',
    status: 415,
    meaning: 'The body was sent with a Content-Type other than application/json (or a +json type).',
    action: 'Send the body with Content-Type: application/json.',
  },
  change_request_not_found: {
    title: 'No such change request',
    status: 404,
    meaning: "No change request has this id, or it is another principal's and the caller may read only its own.",
    action: 'Check the id (the Location of the 202 names it); a submitter reads only the requests it submitted.',
  },
  change_request_settled: {
    title: 'The change request is already settled',
    status: 409,
    meaning: 'The request can no longer be canceled: it is applied, rejected, failed or canceled already. The status member says which.',
    action: 'Read the request (GET /api/change-requests/{id}) for its outcome; to undo an applied change, submit the opposite change.',
  },
  idempotency_key_reused: {
    title: 'The Idempotency-Key was used for another request',
    status: 422,
    meaning: 'This principal already used the Idempotency-Key for a request with a different body.',
    action: 'Use a new Idempotency-Key for a new request; resend the same body to get the original answer.',
  },
  concurrent_change: {
    title: 'The directory is busy',
    status: 503,
    meaning: 'Other writers kept committing first, and the service gave up retrying for now. Nothing was changed.',
    action: 'Retry after the Retry-After seconds.',
  },
  service_unavailable: {
    title: 'A dependency is unavailable',
    status: 503,
    meaning: 'Table storage or the message transport could not be reached. Nothing was changed.',
    action: 'Retry after the Retry-After seconds; if it lasts, check GET /api/health/ready and the storage account.',
  },
  rate_limited: {
    title: 'Too many submissions',
    status: 429,
    meaning: 'This principal used up its submissions for the current window (SUBMISSION_RATE_LIMIT per SUBMISSION_RATE_WINDOW_SECONDS).',
    action: 'Wait the Retry-After seconds before submitting again.',
  },
  invalid_configuration: {
    title: 'The service is misconfigured',
    status: 500,
    meaning: 'An app setting is missing or invalid; the log names which and why.',
    action: 'An operator corrects the app settings the log names; callers can only retry later.',
  },
  invariant_broken: {
    title: 'The directory is inconsistent',
    status: 500,
    meaning: 'The service found stored state that its rules never write, and stopped rather than build on it. The log has the details.',
    action: 'Report it to the operators with the X-Correlation-Id of the answer.',
  },
  internal_error: {
    title: 'Unexpected error',
    status: 500,
    meaning: 'The service failed in a way it did not expect. The error was logged; the answer says nothing more on purpose.',
    action: 'Retry; if it persists, report it to the operators with the X-Correlation-Id of the answer.',
  },
  endpoint_identity_ambiguous: {
    title: 'Several endpoints have this display name',
    status: 409,
    meaning:
      'GET /api/endpoints/{identity} was given a display name that more than one endpoint has. The matches member lists their SIP addresses.',
    action: 'Ask again by one of the SIP addresses in matches.',
  },
  asset_not_found: {
    title: 'No such reference page file',
    status: 404,
    meaning: "GET /api/docs/{asset} was asked for a file that is not one of the reference page's own script and style sheets.",
    action: 'Open GET /api/docs; it loads the files it needs by their fixed names.',
  },
  verification_not_found: {
    title: 'No such verification',
    status: 404,
    meaning: 'GET /api/audit/verifications/{id} names an id no verification operation has.',
    action: 'Use the Location that POST /api/audit/verifications answered with, or start a new verification there.',
  },
  verification_too_large: {
    title: 'Too many records to verify inside one request',
    status: 422,
    meaning:
      'GET /api/audit/verify walks the records appended since the last verification (all of them with full=true) inside the request, and would have to walk more than 20,000: in Azure a request must answer within 230 s.',
    action:
      'POST /api/audit/verifications with {"mode":"incremental"} or {"mode":"full"}: it runs in the background, in slices, and its Location answers progress and the result.',
  },

  problem_type_not_found: {
    title: 'No such problem code',
    status: 404,
    meaning: 'GET /api/problems/{code} was asked about a code the service never answers with.',
    action: 'Follow the type URI of a problem document; codes are lower case with underscores.',
  },

  // RejectionCode: the rules of a change request.
  invalid_message: {
    title: 'The queued message was invalid',
    status: null,
    appearsIn: "a change request's reason.code (status rejected) for a message put on the queue directly, not through the API",
    meaning: 'A message on the endpoint queues did not hold a valid change request; it was recorded and set aside.',
    action: 'Submit changes through POST /api/change-requests, which validates them first.',
  },
  sip_domain_not_supported: {
    title: 'The SIP domain is not supported',
    status: 409,
    appearsIn: `${AS_REASON}; also ${AS_TOPOLOGY}`,
    meaning: "The SIP address's domain is not one of this deployment's supported SIP domains.",
    action: 'Use an address in a supported domain, or have an operator add the domain (PUT /api/topology/sip-domains/{domain}).',
  },
  pool_not_found: {
    title: 'No such Persistent Chat pool',
    status: 404,
    appearsIn: `${AS_REASON}; also ${AS_TOPOLOGY}`,
    meaning: 'The pool FQDN is not a registered Persistent Chat pool.',
    action: 'Check the FQDN (GET /api/topology lists the pools), or have an operator register it (PUT /api/topology/pools/{fqdn}).',
  },
  sip_address_held_by_endpoint: {
    title: 'The SIP address is already an endpoint',
    status: null,
    appearsIn: AS_REASON,
    meaning: 'A Persistent Chat endpoint already has this SIP address.',
    action: 'Pick another address, or remove the existing endpoint first.',
  },
  sip_address_held_by_user: {
    title: 'The SIP address belongs to a directory user',
    status: null,
    appearsIn: AS_REASON,
    meaning: 'A directory user (such as the legacy ocschat@ user) holds this SIP address.',
    action: 'Set replaceLegacyUser: true to replace the user with the endpoint in one step (the migration), or pick another address.',
  },
  legacy_user_not_found: {
    title: 'No directory user to replace',
    status: null,
    appearsIn: AS_REASON,
    meaning: 'replaceLegacyUser was set, but no directory user holds the SIP address.',
    action: 'Submit without replaceLegacyUser, or check the address.',
  },
  pool_has_endpoint: {
    title: 'The pool already has an admin-created endpoint',
    status: 409,
    appearsIn: `${AS_REASON}; also ${AS_TOPOLOGY} (retiring a pool that still has one)`,
    meaning: 'A Persistent Chat pool has at most one admin-created endpoint besides its default one.',
    action: "Remove the pool's existing endpoint first (GET /api/endpoints?poolFqdn=... finds it).",
  },
  endpoint_not_found: {
    title: 'No such endpoint',
    status: 404,
    appearsIn: `${AS_REASON} (a delete); also GET /api/endpoints/{identity}`,
    meaning: 'No Persistent Chat endpoint has this SIP address (or this display name).',
    action: 'Check the address; GET /api/endpoints lists the endpoints.',
  },
  default_endpoint_protected: {
    title: "A pool's default endpoint cannot be removed",
    status: null,
    appearsIn: AS_REASON,
    meaning: "The endpoint is its pool's default endpoint, which the system owns.",
    action: 'Retire the pool instead (DELETE /api/topology/pools/{fqdn}), which removes its default endpoint with it.',
  },
  canceled: {
    title: 'The change request was canceled',
    status: null,
    appearsIn: "a change request's reason.code (status canceled) and its audit record",
    meaning: 'The request was withdrawn (POST /api/change-requests/{id}/cancel) while it was still accepted; it changed nothing.',
    action: 'Submit a new request if the change is still wanted.',
  },

  // FailureCode: accepted requests that could not be carried out.
  processing_failed: {
    title: 'Processing failed',
    status: null,
    appearsIn: AS_FAILURE,
    meaning: "The request's message failed on every delivery and was set aside (the poison or dead-letter queue). Nothing was changed.",
    action: "Operators find the cause in the log by the request's correlation id; submit the request again once it is fixed.",
  },
  undeliverable: {
    title: 'The request was never processed',
    status: null,
    appearsIn: AS_FAILURE,
    meaning: "The request's message was sent and re-sent, and no worker settled it within REDRIVE_MAX_SENDS sends. Nothing was changed.",
    action: 'Check that the queue-triggered functions run (GET /api/health/ready), then submit again.',
  },
  redrive_failed: {
    title: 'Re-sending the request failed',
    status: null,
    appearsIn: AS_FAILURE,
    meaning: "The re-driver could not read or re-send the request's waiting-list entry. Nothing was changed.",
    action: 'Report it to the operators with the request id; submit again.',
  },

  // TopologyCode: refusals of topology changes (those not listed above).
  sip_domain_in_use: {
    title: 'The SIP domain is in use',
    status: 409,
    appearsIn: AS_TOPOLOGY,
    meaning: "A pool's endpoint or a directory user still has an address in the domain.",
    action: 'Remove what uses the domain first; the audit log names the change that added it.',
  },
  sip_domain_not_found: {
    title: 'No such SIP domain',
    status: 404,
    appearsIn: AS_TOPOLOGY,
    meaning: "The domain is not one of this deployment's supported SIP domains.",
    action: 'Check the name (GET /api/topology lists the domains).',
  },
  pool_already_registered: {
    title: 'The pool is registered with another default endpoint',
    status: 409,
    appearsIn: AS_TOPOLOGY,
    meaning: 'PUT of a pool that exists with a different defaultEndpointSipAddress. The same PUT as the first answers 200.',
    action: 'Retire the pool first to register it anew, or PUT it with its current default endpoint.',
  },
  sip_address_in_use: {
    title: 'The SIP address is in use',
    status: 409,
    appearsIn: AS_TOPOLOGY,
    meaning: 'Another directory object (an endpoint or a user) already holds the SIP address.',
    action: 'Pick another address, or remove what holds it first.',
  },
  directory_user_not_found: {
    title: 'No such directory user',
    status: 404,
    appearsIn: AS_TOPOLOGY,
    meaning: 'No directory user holds this SIP address.',
    action: 'Check the address (GET /api/topology lists the users).',
  },

  // The local host's own answers (npm start), before any function runs.
  route_not_found: {
    title: 'No such route',
    status: 404,
    appearsIn: 'the local host (npm start); in Azure the Functions host answers its own 404',
    meaning: 'No function serves this path.',
    action: "Check the path against the README's route table (every route is under /api).",
  },
  method_not_allowed: {
    title: 'Method not allowed',
    status: 405,
    appearsIn: 'the local host (npm start)',
    meaning: 'A function serves the path, but not with this method. Allow lists the methods it takes.',
    action: 'Use one of the methods in Allow.',
  },
  malformed_path: {
    title: 'The URL path is malformed',
    status: 400,
    appearsIn: 'the local host (npm start)',
    meaning: 'A path segment is not valid percent-encoded UTF-8.',
    action: 'Percent-encode each path segment as UTF-8 (encodeURIComponent).',
  },
  malformed_request: {
    title: 'The request could not be read',
    status: 400,
    appearsIn: 'the local host (npm start)',
    meaning: 'The request line, the Host header or another header is malformed.',
    action: 'Send a well-formed HTTP/1.1 request.',
  },
  headers_too_large: {
    title: 'The headers are too large',
    status: 431,
    appearsIn: 'the local host (npm start)',
    meaning: 'The request line and headers together are larger than the host reads (16 KiB).',
    action: 'Send fewer or shorter headers.',
  },
  request_timeout: {
    title: 'The request took too long to arrive',
    status: 408,
    appearsIn: 'the local host (npm start)',
    meaning: 'The client did not send its headers, or its whole request, in time.',
    action: 'Send the request promptly, or check the network in between.',
  },
};

/** The explanation of a code, or undefined when the service never answers with it (own keys only: no prototype names). */
export function explanationOf(code: string): ProblemExplanation | undefined {
  return Object.hasOwn(PROBLEM_CATALOG, code) ? PROBLEM_CATALOG[code] : undefined;
}
