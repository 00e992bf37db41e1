import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FqdnSchema, SipAddressSchema } from '../../../shared/domain/names';

function messagesOf(result: { success: boolean; error?: { issues: { message: string }[] } }): string[] {
  return result.error?.issues.map((issue) => issue.message) ?? [];
}

describe('SipAddressSchema', () => {
  it('normalizes to lower case and trims when the address has mixed case and spaces', () => {
    const parsed = SipAddressSchema.parse('  SIP:PersistentChat@Contoso.COM \t');

    assert.equal(parsed, 'sip:persistentchat@contoso.com');
  });

  it('accepts every RFC 3261 user character when the user part uses them', () => {
    const address = "sip:a.b-c_d!~*'()&=+$,;?/%41@contoso.com";

    const parsed = SipAddressSchema.parse(address);

    assert.equal(parsed, address.toLowerCase());
  });

  const rejections: { name: string; input: string; rule: RegExp }[] = [
    { name: 'the scheme is sips:', input: 'sips:chat@contoso.com', rule: /^SIP address must start with the sip: scheme/ },
    { name: 'the scheme is tel:', input: 'tel:+14255550100', rule: /^SIP address must start with the sip: scheme/ },
    { name: 'there is no scheme', input: 'chat@contoso.com', rule: /^SIP address must start with the sip: scheme/ },
    { name: 'there is no user', input: 'sip:@contoso.com', rule: /^SIP address must name a user before @/ },
    { name: 'there is no @ at all', input: 'sip:contoso.com', rule: /^SIP address must name a user before @/ },
    { name: 'there are two @', input: 'sip:a@b@contoso.com', rule: /^SIP address must contain exactly one @/ },
    { name: 'it carries a password', input: 'sip:a:b@c.com', rule: /^SIP address must not carry a password/ },
    { name: 'the user has a space', input: 'sip:a b@contoso.com', rule: /^SIP address user part has a character RFC 3261 does not allow/ },
    {
      name: 'the user has a bad escape',
      input: 'sip:a%4g@contoso.com',
      rule: /^SIP address user part has a character RFC 3261 does not allow/,
    },
    {
      name: 'the host has a port',
      input: 'sip:chat@contoso.com:5061',
      rule: /^SIP address must not carry a port, URI parameters or headers/,
    },
    {
      name: 'the host has URI parameters',
      input: 'sip:chat@contoso.com;transport=tls',
      rule: /^SIP address must not carry a port, URI parameters or headers/,
    },
    {
      name: 'the host has headers',
      input: 'sip:chat@contoso.com?subject=hi',
      rule: /^SIP address must not carry a port, URI parameters or headers/,
    },
    { name: 'a host label starts with a hyphen', input: 'sip:chat@-pc.contoso.com', rule: /^SIP address host must be a DNS name/ },
    { name: 'a host label has an underscore', input: 'sip:chat@pc_pool.contoso.com', rule: /^SIP address host must be a DNS name/ },
    { name: 'a host label is empty', input: 'sip:chat@contoso..com', rule: /^SIP address host must be a DNS name/ },
    { name: 'a host label is longer than 63', input: `sip:chat@${'a'.repeat(64)}.com`, rule: /^SIP address host must be a DNS name/ },
    { name: 'the host is a single label', input: 'sip:chat@localhost', rule: /^SIP address host must have at least two labels/ },
    { name: 'the top-level label is numeric', input: 'sip:chat@contoso.123', rule: /^SIP address host must be a DNS name/ },
    { name: 'the host is an IPv4 address', input: 'sip:chat@10.0.0.1', rule: /^SIP address host must be a DNS name/ },
    {
      name: 'it is longer than 256 characters',
      input: `sip:${'u'.repeat(241)}@contoso.com`,
      rule: /^SIP address must be at most 256 characters$/,
    },
  ];
  for (const { name, input, rule } of rejections) {
    it(`rejects naming the rule when ${name}`, () => {
      const result = SipAddressSchema.safeParse(input);

      assert.equal(result.success, false);
      assert.equal(messagesOf(result).length, 1);
      assert.match(messagesOf(result)[0] ?? '', rule);
    });
  }

  it('accepts exactly 256 characters when the address is at the limit', () => {
    const input = `sip:${'u'.repeat(240)}@contoso.com`;

    const result = SipAddressSchema.safeParse(input);

    assert.equal(input.length, 256);
    assert.equal(result.success, true);
  });

  it('rejects with "must be a string" when the value is not a string', () => {
    const result = SipAddressSchema.safeParse(42);

    assert.deepEqual(messagesOf(result), ['must be a string']);
  });
});

describe('FqdnSchema', () => {
  it('normalizes to lower case and trims when the name has mixed case and spaces', () => {
    assert.equal(FqdnSchema.parse(' PCPool.Contoso.COM '), 'pcpool.contoso.com');
  });

  it('accepts digits and inner hyphens when labels other than the last use them', () => {
    assert.equal(FqdnSchema.parse('pc-pool-01.eu-2.contoso.com'), 'pc-pool-01.eu-2.contoso.com');
  });

  const rejections: { name: string; input: string; rule: RegExp }[] = [
    { name: 'it is a single label', input: 'pcpool', rule: /^FQDN must have at least two labels/ },
    { name: 'it is empty', input: '   ', rule: /^FQDN must have at least two labels/ },
    { name: 'a label ends with a hyphen', input: 'pcpool-.contoso.com', rule: /^FQDN must be a DNS name/ },
    { name: 'it ends with a dot', input: 'pcpool.contoso.com.', rule: /^FQDN must be a DNS name/ },
    { name: 'the top-level label is numeric', input: 'pcpool.contoso.42', rule: /^FQDN must be a DNS name/ },
    { name: 'it is an IPv4 address', input: '192.168.1.10', rule: /^FQDN must be a DNS name/ },
    { name: 'it has a port', input: 'pcpool.contoso.com:5041', rule: /^FQDN must be a DNS name/ },
    {
      name: 'it is longer than 253 characters',
      input: `${'a'.repeat(60)}.`.repeat(4) + 'contoso.com',
      rule: /^FQDN must be at most 253 characters$/,
    },
  ];
  for (const { name, input, rule } of rejections) {
    it(`rejects naming the rule when ${name}`, () => {
      const result = FqdnSchema.safeParse(input);

      assert.equal(result.success, false);
      assert.equal(messagesOf(result).length, 1);
      assert.match(messagesOf(result)[0] ?? '', rule);
    });
  }
});
