# Signs requests with Debian's python3-botocore, for tests/cloud/sigv4_botocore_test.cc.
# Run with /usr/bin/python3 (the pyenv python3 on PATH has no botocore). One JSON object per
# input line:
#   {"id", "method", "url", "headers": [[name, value], ...], "body", "service", "region",
#    "amz_date", "access_key", "secret_key", "token" (or null)}
# and one JSON object per output line, in the same order:
#   {"id", "creq", "sts", "signature", "authorization"}
# Exit status 3 (with a message on stderr) when botocore cannot be imported.
import json
import sys

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:
    sys.stderr.write('botocore_sign.py: cannot import botocore (%s): install Debian\'s '
                     'python3-botocore (run scripts/setup)\n' % e)
    sys.exit(3)


def sign(case):
    creds = Credentials(case['access_key'], case['secret_key'], case.get('token'))
    auth = SigV4Auth(creds, case['service'], case['region'])
    req = AWSRequest(method=case['method'], url=case['url'], data=case['body'])
    for name, value in case['headers']:
        req.headers[name] = value  # HTTPHeaders: assignment appends, so repeats are kept
    req.context['timestamp'] = case['amz_date']
    del req.headers['X-Amz-Date']
    req.headers['X-Amz-Date'] = case['amz_date']
    if case.get('token'):
        del req.headers['X-Amz-Security-Token']
        req.headers['X-Amz-Security-Token'] = case['token']
    creq = auth.canonical_request(req)
    sts = auth.string_to_sign(req, creq)
    sig = auth.signature(sts, req)
    authz = ('AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s'
             % (auth.scope(req), auth.signed_headers(auth.headers_to_sign(req)), sig))
    return {'id': case['id'], 'creq': creq, 'sts': sts, 'signature': sig,
            'authorization': authz}


def main():
    out = sys.stdout
    for line in sys.stdin:
        if line.strip():
            out.write(json.dumps(sign(json.loads(line))) + '\n')
    out.flush()


if __name__ == '__main__':
    main()
