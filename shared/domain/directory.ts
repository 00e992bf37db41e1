import type { Fqdn, SipAddress } from './names';

/**
 * The directory this service keeps: the part of a Lync / Skype for Business topology that
 * Persistent Chat endpoints depend on. Every SIP address belongs to at most one holder, an
 * endpoint or a directory user; that single-holder rule is what the storage layout enforces.
 */

/** A SIP domain the deployment supports (Get-CsSipDomain). */
export interface SipDomain {
  name: Fqdn;
  addedAt: string;
}

/** A Persistent Chat pool (Get-CsService -PersistentChatServer) and the endpoints tied to it. */
export interface PersistentChatPool {
  fqdn: Fqdn;
  /** The system-owned endpoint created when Persistent Chat was installed; never removable here. */
  defaultEndpointSipAddress: SipAddress;
  /** The one admin-created (legacy-client) endpoint of this pool, if any. */
  adminEndpointSipAddress: SipAddress | null;
  registeredAt: string;
}

/** A Persistent Chat endpoint: the contact object legacy Group Chat clients dial. */
export interface Endpoint {
  kind: 'endpoint';
  sipAddress: SipAddress;
  poolFqdn: Fqdn;
  displayName: string | null;
  /** True for the pool's system-owned default endpoint. */
  isDefault: boolean;
  createdAt: string;
  /** The change request that created it; null for a default endpoint. */
  changeRequestId: string | null;
}

/** A directory user holding a SIP address, such as the Lync 2010 Group Chat user sip:ocschat@… */
export interface DirectoryUser {
  kind: 'user';
  sipAddress: SipAddress;
  displayName: string | null;
  addedAt: string;
}

/** Whatever holds a SIP address. */
export type AddressHolder = Endpoint | DirectoryUser;

/** One change to the directory, as the domain decides it; the store carries all of one commit atomically. */
export type DirectoryWrite =
  | { type: 'putHolder'; holder: AddressHolder }
  | { type: 'removeHolder'; sipAddress: SipAddress }
  | { type: 'putPool'; pool: PersistentChatPool }
  | { type: 'removePool'; fqdn: Fqdn }
  | { type: 'putDomain'; domain: SipDomain }
  | { type: 'removeDomain'; name: Fqdn };

/** What a decision needs to know about the directory, read at one consistent point. */
export interface DirectoryView {
  domain(name: Fqdn): SipDomain | undefined;
  pool(fqdn: Fqdn): PersistentChatPool | undefined;
  holder(sipAddress: SipAddress): AddressHolder | undefined;
  /** Whether any SIP address (endpoint, default endpoint or user) lives in this domain. */
  domainInUse(name: Fqdn): boolean;
}
