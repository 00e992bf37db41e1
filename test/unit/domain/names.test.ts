import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalSipText, FqdnSchema, SipAddressSchema } from '../../../shared/domain/names';

function messagesOf(result: { success: boolean; error?: { issues: { message: string }[] } }): string[] {
  return result.error?.issues.map((issue) => issue.message) ?? [];
}

describe('SipAddressSchema', () => {
  it('normalizes to lower case and trims when the address has mixed case and spaces', () => {
    const parsed = SipAddressSchema.parse('  SIP:PersistentChat@Contoso.COM \t');

    assert.equal(parsed, 'sip:persistentchat@contoso.com');
  });

  it('accepts every RFC 3261 user character when the user part uses them', () => {
    const address = "sip:a.b-c_d!~*'()&=+$,;?/%2F@contoso.com";

    const parsed = SipAddressSchema.parse(address);

    assert.equal(parsed, address);
  });

  describe('one canonical form (RFC 3261 §19.1.4: an unreserved character equals its escape)', () => {
    const canonical: Array<{ name: string; input: string; output: string }> = [
      { name: 'an escaped letter is decoded', input: 'sip:ocs%63hat@x.com', output: 'sip:ocschat@x.com' },
      { name: 'an escaped capital is decoded, then lower-cased', input: 'sip:%4Fcschat@x.com', output: 'sip:ocschat@x.com' },
      { name: 'every escaped mark is decoded', input: 'sip:%2D%5F%2E%21%7E%2A%27%28%29@x.com', output: "sip:-_.!~*'()@x.com" },
      { name: 'an escaped digit is decoded', input: 'sip:chat%31@x.com', output: 'sip:chat1@x.com' },
      { name: 'an escaped reserved / keeps its escape, in upper-case hex', input: 'sip:a%2fb@x.com', output: 'sip:a%2Fb@x.com' },
      { name: 'an escaped reserved ; keeps its escape', input: 'sip:a%3Bb@x.com', output: 'sip:a%3Bb@x.com' },
      { name: 'escaped UTF-8 keeps its escapes, in upper-case hex', input: 'sip:caf%c3%a9@x.com', output: 'sip:caf%C3%A9@x.com' },
      { name: 'an escaped % stays escaped, and what follows it is text', input: 'sip:a%2563@x.com', output: 'sip:a%2563@x.com' },
      { name: 'an escaped space keeps its escape', input: 'sip:a%20b@x.com', output: 'sip:a%20b@x.com' },
    ];
    for (const { name, input, output } of canonical) {
      it(`spells ${input} as ${output} when ${name}`, () => {
        assert.equal(SipAddressSchema.parse(input), output);
      });
    }

    it('gives both spellings of one address the same value when one is escaped', () => {
      assert.equal(SipAddressSchema.parse('SIP:OCS%63HAT@Contoso.com'), SipAddressSchema.parse('sip:ocschat@contoso.com'));
    });

    it('is stable when the canonical form is parsed again', () => {
      const once = SipAddressSchema.parse('sip:A%2f%4F%c3%a9@x.com');

      assert.equal(SipAddressSchema.parse(once), once);
    });

    for (const input of ['sip:a%4g@x.com', 'sip:a%@x.com', 'sip:a%2@x.com', 'sip:a%%41@x.com']) {
      it(`still refuses the invalid escape in ${input}`, () => {
        const result = SipAddressSchema.safeParse(input);

        assert.equal(result.success, false);
        assert.match(messagesOf(result)[0] ?? '', /^SIP address user part has a character RFC 3261 does not allow/);
      });
    }
  });

  describe('canonicalSipText', () => {
    it('spells a subject naming a SIP address as SipAddressSchema does, and leaves other subjects alone', () => {
      assert.equal(canonicalSipText(' SIP:ocs%63hat@Contoso.com '), 'sip:ocschat@contoso.com');
      assert.equal(canonicalSipText('pool:PC.contoso.com'), 'pool:PC.contoso.com');
    });
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
