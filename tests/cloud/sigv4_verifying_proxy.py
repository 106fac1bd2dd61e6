#!/usr/bin/python3
"""A loopback HTTP proxy that lets through only correctly SigV4-signed requests.

    PROXY_SECRET=SK [PROXY_TOKEN=T] /usr/bin/python3 sigv4_verifying_proxy.py \
        --listen-port P --upstream http://127.0.0.1:Q --access-key AK \
        --secret-env PROXY_SECRET [--token-env PROXY_TOKEN]

The secret key and the session token are read from the environment variables named by
--secret-env and --token-env, so that they never show in `ps` (a command line is visible to
every user of the machine). --secret SK and --token T still work for a quick manual run, with a
warning on stderr.

For every request it recomputes the signature with botocore (Debian's python3-botocore, an
implementation independent of ours) from the request exactly as received: method, path and
query, the headers named in SignedHeaders, the body, X-Amz-Date, and the region/service of the
credential scope in the Authorization header. A request without a signature, or whose
signature, key, token or payload hash does not verify, gets HTTP 403 with an AWS-style XML
ErrorResponse (Code MissingAuthenticationToken, IncompleteSignature, InvalidClientTokenId,
SignatureDoesNotMatch or XAmzContentSHA256Mismatch); anything else is forwarded to the upstream
(a moto_server, or any HTTP server) and its response relayed back.

Prints "ready PORT" on stdout once listening (--listen-port 0 picks a free port) and one line
per request on stderr: method, path, action, verdict. Never logs the secret or the token.
Only header signing (Authorization) is verified; presigned URLs are answered 403
IncompleteSignature. Stdlib + botocore only; run with /usr/bin/python3.
"""
import argparse
import hashlib
import hmac
import http.client
import os
import re
import sys
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:  # the test turns this into a failure that says what to install
    sys.stderr.write('sigv4_verifying_proxy: cannot import botocore (%s): install Debian\'s '
                     'python3-botocore (run scripts/setup)\n' % e)
    sys.exit(3)

AUTH_RE = re.compile(
    r'^AWS4-HMAC-SHA256 Credential=(?P<ak>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/'
    r'(?P<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?P<signed>[^,\s]+),\s*'
    r'Signature=(?P<sig>[0-9a-f]{64})$')
HOP_BY_HOP = {'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te',
              'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection'}
MISMATCH_MESSAGE = ('The request signature we calculated does not match the signature you '
                    'provided. Check your AWS Secret Access Key and signing method.')


class Rejection(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def action_of(path, body, headers):
    query = urllib.parse.urlsplit(path).query
    for source in (query, body.decode('utf-8', 'replace')):
        for key, value in urllib.parse.parse_qsl(source, keep_blank_values=True):
            if key == 'Action':
                return value
    return headers.get('X-Amz-Target', '-')


def verify(config, method, path, headers, body):
    """Raises Rejection unless the request carries a valid SigV4 Authorization."""
    authorization = headers.get_all('Authorization') or []
    query = urllib.parse.urlsplit(path).query
    if not authorization:
        if 'X-Amz-Signature=' in query:
            raise Rejection('IncompleteSignature',
                            'Presigned URLs are not supported by this proxy.')
        raise Rejection('MissingAuthenticationToken',
                        'Request is missing Authentication Token')
    match = AUTH_RE.match(authorization[0].strip()) if len(authorization) == 1 else None
    if not match:
        raise Rejection('IncompleteSignature',
                        'Authorization header requires Credential, SignedHeaders and '
                        'Signature parameters of the AWS4-HMAC-SHA256 algorithm.')
    if match['ak'] != config.access_key:
        raise Rejection('InvalidClientTokenId',
                        'The security token included in the request is invalid.')
    amz_date = headers.get('X-Amz-Date')
    if not amz_date or not re.fullmatch(r'\d{8}T\d{6}Z', amz_date):
        raise Rejection('IncompleteSignature', 'Request must contain a valid X-Amz-Date header.')
    if amz_date[:8] != match['date']:
        raise Rejection('SignatureDoesNotMatch', 'Credential date does not match X-Amz-Date.')
    signed = match['signed'].split(';')
    if 'host' not in signed or 'x-amz-date' not in signed:
        raise Rejection('SignatureDoesNotMatch',
                        'Host and X-Amz-Date must be among the signed headers.')
    token = headers.get('X-Amz-Security-Token')
    if (config.token or None) != (token or None):
        raise Rejection('InvalidClientTokenId',
                        'The security token included in the request is invalid.')
    content_sha = headers.get('X-Amz-Content-SHA256')
    if content_sha is not None and content_sha != hashlib.sha256(body).hexdigest():
        raise Rejection('XAmzContentSHA256Mismatch',
                        'The provided x-amz-content-sha256 header does not match what was '
                        'computed.')

    # Rebuild the request from what was received, with only the signed headers, and let
    # botocore sign it. The query is decoded and handed over as parameters so that botocore
    # re-encodes it canonically, as AWS does (it would sign a raw query string verbatim).
    split = urllib.parse.urlsplit(path)
    host = headers.get('Host', '')
    request = AWSRequest(method=method, url='http://%s%s' % (host, split.path or '/'),
                         data=body)
    for name in signed:
        for value in headers.get_all(name) or []:
            request.headers[name] = value
    if split.query:
        request.params = [(urllib.parse.unquote(k), urllib.parse.unquote(v))
                          for k, _, v in (p.partition('=') for p in split.query.split('&'))]
    request.context['timestamp'] = amz_date
    auth = SigV4Auth(Credentials(config.access_key, config.secret, config.token),
                     match['service'], match['region'])
    if auth.signed_headers(auth.headers_to_sign(request)) != match['signed']:
        raise Rejection('SignatureDoesNotMatch',
                        'SignedHeaders names a header the request does not have.')
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match['sig']):
        raise Rejection('SignatureDoesNotMatch', MISMATCH_MESSAGE)


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    config = None  # set by main()

    def log_message(self, fmt, *args):  # one line per request is written by handle_any
        pass

    def handle_any(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length > 0 else b''
        action = action_of(self.path, body, self.headers)
        try:
            verify(self.config, self.command, self.path, self.headers, body)
        except Rejection as r:
            self.log_line(action, r.code)
            self.send_error_response(403, r.code, r.message)
            return
        try:
            status, reason, headers, payload = self.forward(body)
        except OSError as e:
            self.log_line(action, 'ok, upstream failed: %s' % e)
            self.send_error_response(502, 'ServiceUnavailable', 'upstream unreachable')
            return
        self.log_line(action, 'ok %d' % status)
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != 'content-length':
                self.send_header(name, value)
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(payload)

    def forward(self, body):
        upstream = urllib.parse.urlsplit(self.config.upstream)
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port or 80, timeout=30)
        try:
            headers = {}
            conn.putrequest(self.command, self.path, skip_host=True,
                            skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP and name.lower() != 'content-length':
                    conn.putheader(name, value)
            conn.putheader('Content-Length', str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            conn.close()

    def send_error_response(self, status, code, message):
        payload = ('<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error>'
                   '<Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>'
                   '<RequestId>%s</RequestId></ErrorResponse>\n'
                   % (escape(code), escape(message), uuid.uuid4())).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'text/xml')
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(payload)

    def log_line(self, action, verdict):
        sys.stderr.write('sigv4-proxy: %s %s action=%s verdict=%s\n'
                         % (self.command, urllib.parse.urlsplit(self.path).path, action,
                            verdict))
        sys.stderr.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--listen-port', type=int, required=True)
    parser.add_argument('--upstream', required=True, help='http://127.0.0.1:PORT')
    parser.add_argument('--access-key', required=True)
    secret = parser.add_mutually_exclusive_group(required=True)
    secret.add_argument('--secret-env', metavar='NAME',
                        help='environment variable that holds the secret access key')
    secret.add_argument('--secret', help='the secret access key (visible in ps; avoid)')
    token = parser.add_mutually_exclusive_group()
    token.add_argument('--token-env', metavar='NAME',
                       help='environment variable that holds the session token')
    token.add_argument('--token', default=None, help='the session token (visible in ps; avoid)')
    config = parser.parse_args()
    if config.secret is not None or config.token is not None:
        sys.stderr.write('sigv4_verifying_proxy: --secret/--token show in ps; use --secret-env '
                         'and --token-env\n')
    if config.secret_env is not None:
        config.secret = os.environ.get(config.secret_env)
        if not config.secret:
            parser.error('--secret-env %s: the variable is not set or empty' % config.secret_env)
    if config.token_env is not None:
        config.token = os.environ.get(config.token_env)
        if not config.token:
            parser.error('--token-env %s: the variable is not set or empty' % config.token_env)
    Handler.config = config
    server = ThreadingHTTPServer(('127.0.0.1', config.listen_port), Handler)
    server.daemon_threads = True
    print('ready %d' % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
