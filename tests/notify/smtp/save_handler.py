"""An aiosmtpd handler for the e-mail channel's tests: keeps each message exactly as received.

python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c save_handler.Save DIRECTORY (with this file's
directory on PYTHONPATH). Every message is written to DIRECTORY/<ns>.eml as the bytes of the
DATA command, with DIRECTORY/<ns>.env beside it: the envelope sender, the recipients and
whether the session had switched to TLS (STARTTLS). aiosmtpd's own Mailbox handler re-serialises
messages (refolding headers), which would hide what dbrunbook really sent.
"""

import os
import time


class Save:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("Save needs the directory to write messages to")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        base = os.path.join(self.directory, str(time.time_ns()))
        with open(base + ".env", "w", encoding="utf-8") as f:
            f.write("from: %s\n" % envelope.mail_from)
            f.write("to: %s\n" % ", ".join(envelope.rcpt_tos))
            f.write("tls: %s\n" % ("yes" if session.ssl else "no"))
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 Message accepted for delivery"
