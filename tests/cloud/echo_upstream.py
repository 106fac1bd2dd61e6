#!/usr/bin/python3
"""A loopback HTTP server for sigv4_proxy_test: answers every request with 200 and an XML body
naming the method, path, Host and the body's SHA-256, so the test can tell that the proxy
forwarded the request unchanged. Prints "ready PORT" once listening (port chosen by the OS)."""
import hashlib
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


class Echo(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length > 0 else b''
        payload = ('<EchoResponse><Method>%s</Method><Path>%s</Path><Host>%s</Host>'
                   '<BodySha256>%s</BodySha256></EchoResponse>\n'
                   % (escape(self.command), escape(self.path),
                      escape(self.headers.get('Host', '')),
                      hashlib.sha256(body).hexdigest())).encode('utf-8')
        self.send_response(200)
        self.send_header('Content-Type', 'text/xml')
        self.send_header('X-Upstream', 'echo')
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


if __name__ == '__main__':
    server = ThreadingHTTPServer(('127.0.0.1', 0), Echo)
    server.daemon_threads = True
    print('ready %d' % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
