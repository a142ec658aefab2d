#!/usr/bin/env python3
"""Runs one command on an SSH server with asyncssh, for the interop tests.

Usage: asyncssh_client.py --port N --user U --key KEY --known-hosts FILE
       [--host-key-alg ALG] [--kex K] [--cipher C] [--mac M] [--compression Z]
       [--info FILE] [--log FILE] [--host H] COMMAND

The server's host key is pinned: asyncssh checks it against FILE only, and the
connection is refused when it is not there. Each of ALG, K, C, M and Z given is the
only one of its kind offered. The remote stdout and stderr are copied byte for
byte; the exit status is the remote one, or 255 when the connection or the command
fails (the reason goes to stderr). --info writes the negotiated algorithms as JSON;
--log writes asyncssh's debug log (level 2: every KEXINIT list).
"""

import asyncio
import json
import logging
import sys

import asyncssh
from peer_args import client_args


class Agreement(logging.Handler):
    """Records the `Key exchange alg: ...` line of asyncssh's debug log."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.kex = ""

    def emit(self, record):
        # Messages look like "[conn=0]   Key exchange alg: curve25519-sha256".
        _, found, alg = record.getMessage().partition("Key exchange alg: ")
        if found and not self.kex:
            self.kex = alg.strip()


AGREEMENT = Agreement()


async def run(a):
    options = dict(
        port=a.port,
        username=a.user,
        client_keys=[a.key],
        known_hosts=a.known_hosts,
        agent_path=None,
        # No ~/.ssh/config and no password or keyboard-interactive fallback.
        config=[],
        password=None,
        kbdint_auth=False,
        connect_timeout=30,
        login_timeout=30,
    )
    for option, wanted in (
        ("server_host_key_algs", a.host_key_alg),
        ("kex_algs", a.kex),
        ("encryption_algs", a.cipher),
        ("mac_algs", a.mac),
        ("compression_algs", a.compression),
    ):
        if wanted:
            options[option] = [wanted]
    async with asyncssh.connect(a.host, **options) as conn:
        if a.info:
            info = {
                "kex": AGREEMENT.kex,
                # Only ALG was offered, so a completed key exchange used it.
                "hostkey": a.host_key_alg or "",
                "cipher": conn.get_extra_info("send_cipher"),
                "recv_cipher": conn.get_extra_info("recv_cipher"),
                "mac": conn.get_extra_info("send_mac"),
            }
            with open(a.info, "w") as f:
                json.dump(info, f)
        result = await asyncio.wait_for(
            conn.run(a.command, encoding=None, check=False, stdin=asyncssh.DEVNULL),
            timeout=60,
        )
        return result


def main():
    a = client_args()
    # Our own handlers only: nothing of the log may reach stderr.
    logger = logging.getLogger("asyncssh")
    logger.addHandler(AGREEMENT)
    if a.log:
        handler = logging.FileHandler(a.log, mode="w")
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        logger.addHandler(handler)
    asyncssh.set_log_level(logging.DEBUG)
    asyncssh.set_debug_level(2)
    try:
        result = asyncio.run(run(a))
    except Exception as e:  # noqa: BLE001 - any failure is reported the same way
        sys.stderr.write(f"asyncssh_client: {type(e).__name__}: {e}\n")
        return 255
    sys.stdout.buffer.write(result.stdout or b"")
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(result.stderr or b"")
    sys.stderr.buffer.flush()
    status = result.exit_status
    if status is None or not 0 <= status <= 255:
        sys.stderr.write(
            f"asyncssh_client: no exit status (signal {result.exit_signal!r})\n"
        )
        return 255
    return status


if __name__ == "__main__":
    sys.exit(main())
