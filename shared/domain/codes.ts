/**
 * The stable codes of the product's outcomes: clients, automation and auditors branch on them, so
 * they never change once published. Each is an `as const` object with its derived union type.
 */

/** Every rule a change request can break. */
export const RejectionCode = {
  invalidMessage: 'invalid_message',
  sipDomainNotSupported: 'sip_domain_not_supported',
  poolNotFound: 'pool_not_found',
  sipAddressHeldByEndpoint: 'sip_address_held_by_endpoint',
  sipAddressHeldByUser: 'sip_address_held_by_user',
  legacyUserNotFound: 'legacy_user_not_found',
  poolHasEndpoint: 'pool_has_endpoint',
  endpointNotFound: 'endpoint_not_found',
  defaultEndpointProtected: 'default_endpoint_protected',
} as const;
export type RejectionCode = (typeof RejectionCode)[keyof typeof RejectionCode];

/** Why a request that was accepted could not be carried out. */
export const FailureCode = {
  /** Its message failed on every delivery and was set aside (poison queue / dead-letter queue). */
  processingFailed: 'processing_failed',
  /** Its message was sent and re-sent, and no worker ever settled it. */
  undeliverable: 'undeliverable',
  /** The re-driver could not handle its waiting-list entry (unreadable, or re-sending it failed on a bug). */
  redriveFailed: 'redrive_failed',
} as const;
export type FailureCode = (typeof FailureCode)[keyof typeof FailureCode];

/** The reason code of a request withdrawn while accepted (POST /api/change-requests/{id}/cancel). */
export const CANCELED_CODE = 'canceled' as const;

/** Every refusal of a topology change. */
export const TopologyCode = {
  sipDomainInUse: 'sip_domain_in_use',
  sipDomainNotFound: 'sip_domain_not_found',
  sipDomainNotSupported: 'sip_domain_not_supported',
  poolNotFound: 'pool_not_found',
  poolConflict: 'pool_already_registered',
  poolHasEndpoint: 'pool_has_endpoint',
  sipAddressInUse: 'sip_address_in_use',
  userNotFound: 'directory_user_not_found',
} as const;
export type TopologyCode = (typeof TopologyCode)[keyof typeof TopologyCode];

/** The code an audit record gives for an outcome other than `applied`. */
export type OutcomeCode = RejectionCode | FailureCode | TopologyCode;
