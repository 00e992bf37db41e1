import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiRootFrom, retryAfterMs } from '../../../cli/api';
import { CliExit } from '../../../cli/exit';
import { normaliseArguments } from '../../../cli/powershell';

describe('the PowerShell-style normaliser (cli/powershell.ts)', () => {
  it('turns cmdlet and parameter names in any case into the declared command and --options', () => {
    assert.deepEqual(
      normaliseArguments([
        'new-cspersistentchatendpoint',
        '-sipaddress',
        'sip:a@b.c',
        '-PERSISTENTCHATPOOLFQDN',
        'p.b.c',
        '-whatif',
        '--json',
      ]),
      ['New-CsPersistentChatEndpoint', '--SipAddress', 'sip:a@b.c', '--PersistentChatPoolFqdn', 'p.b.c', '--WhatIf', '--json'],
    );
  });

  it("leaves a parameter's value alone even when it looks like a parameter", () => {
    assert.deepEqual(normaliseArguments(['Get-CsPersistentChatEndpoint', '-Identity', '-WhatIf']), [
      'Get-CsPersistentChatEndpoint',
      '--Identity',
      '-WhatIf',
    ]);
  });

  it('binds -Name:value, and -WhatIf:$true / -WhatIf:$false as PowerShell does', () => {
    assert.deepEqual(normaliseArguments(['Remove-CsPersistentChatEndpoint', '-Identity:sip:a@b.c', '-WhatIf:$true']), [
      'Remove-CsPersistentChatEndpoint',
      '--Identity=sip:a@b.c',
      '--WhatIf',
    ]);
    assert.deepEqual(normaliseArguments(['Remove-CsPersistentChatEndpoint', '-Identity', 'x', '-WhatIf:$false']), [
      'Remove-CsPersistentChatEndpoint',
      '--Identity',
      'x',
    ]);
  });

  it('leaves an unknown parameter, and everything outside a cmdlet, for commander to judge', () => {
    assert.deepEqual(normaliseArguments(['Get-CsPersistentChatEndpoint', '-Bogus']), ['Get-CsPersistentChatEndpoint', '-Bogus']);
    assert.deepEqual(normaliseArguments(['endpoint', 'get', '-identity', 'x']), ['endpoint', 'get', '-identity', 'x']);
  });
});

describe('the server URL and Retry-After (cli/api.ts)', () => {
  it('takes an origin, with or without a trailing /api, and defaults to localhost:${PORT:-7071}', () => {
    assert.equal(apiRootFrom('https://app.azurewebsites.net', {}), 'https://app.azurewebsites.net/api');
    assert.equal(apiRootFrom('http://localhost:7071/api/', {}), 'http://localhost:7071/api');
    assert.equal(apiRootFrom(undefined, { PCHAT_URL: 'http://h:1' }), 'http://h:1/api');
    assert.equal(apiRootFrom(undefined, { PORT: '8080' }), 'http://localhost:8080/api');
    assert.equal(apiRootFrom(undefined, {}), 'http://localhost:7071/api');
  });

  it('refuses a URL with a path, credentials or another scheme, naming where it came from', () => {
    for (const [url, rule] of [
      ['http://h/other', /--url must be the origin alone/],
      ['http://user:pw@h', /--url must not hold a user name or password/],
      ['file:///etc/passwd', /--url must be an http or https URL/],
    ] as const) {
      assert.throws(
        () => apiRootFrom(url, {}),
        (error: unknown) => error instanceof CliExit && error.exitCode === 2 && rule.test(error.message),
      );
    }
    assert.throws(() => apiRootFrom(undefined, { PCHAT_URL: 'nope' }), /PCHAT_URL must be/);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' })), 3000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 4_000), 6000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' })), undefined);
    assert.equal(retryAfterMs(new Headers()), undefined);
  });
});
