"""A real SMTP server requiring STARTTLS and AUTH, for the e-mail channel's SMTP AUTH test.

aiosmtpd's command line cannot require authentication, so this starts its Controller with the
same Save handler (save_handler.py) and an authenticator:

  python3 auth_server.py HOST PORT CERT KEY USER DIRECTORY

The password is read from the environment variable SMTP_TEST_PASSWORD (not the command line).
AUTH is only offered after STARTTLS (aiosmtpd's default auth_require_tls). Each message's .env
file gets "auth: <user>". Runs until killed.
"""

import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from save_handler import Save


class SaveWithAuth(Save):
    async def handle_DATA(self, server, session, envelope):
        result = await super().handle_DATA(server, session, envelope)
        for name in sorted(os.listdir(self.directory)):
            if name.endswith(".env"):
                path = os.path.join(self.directory, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                if "auth:" not in text:
                    with open(path, "a", encoding="utf-8") as f:
                        f.write("auth: %s\n" % (session.auth_data.login.decode()
                                               if session.auth_data else "none"))
        return result


def main():
    host, port, cert, key, user, directory = sys.argv[1:7]
    password = os.environ["SMTP_TEST_PASSWORD"].encode()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password)
        # handled=False: aiosmtpd answers 535 itself (its default, True, means "already answered").
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(SaveWithAuth(directory), hostname=host, port=int(port),
                            tls_context=context, require_starttls=True, auth_required=True,
                            authenticator=authenticator)
    controller.start()
    print("listening on %s:%s" % (host, port), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
