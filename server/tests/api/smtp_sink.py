"""An SMTP server on 127.0.0.1:<port> for the email-channel tests (aiosmtpd, from PyPI).

It accepts the login optimus/s3cret (AUTH PLAIN or LOGIN, without TLS: loopback only), refuses
any other with 535, prints "ready" once it listens, then one JSON line per message received:
{"from", "to", "data", "authenticated"}.
"""

import asyncio
import json
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


# aiosmtpd warns about its own deprecated field on every login.
warnings.filterwarnings("ignore", category=DeprecationWarning)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        print(
            json.dumps(
                {
                    "from": envelope.mail_from,
                    "to": envelope.rcpt_tos,
                    "data": envelope.content.decode("utf-8", "replace"),
                    "authenticated": bool(session.authenticated),
                }
            ),
            flush=True,
        )
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"optimus"
        and auth_data.password == b"s3cret"
    )
    return AuthResult(success=ok, handled=False)


async def main(port):
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
