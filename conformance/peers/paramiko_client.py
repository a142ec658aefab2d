#!/usr/bin/env python3
"""Runs one command on an SSH server with paramiko's SSHClient, for the interop tests.

Usage: paramiko_client.py --port N --user U --key KEY --known-hosts FILE
       [--host-key-alg ALG] [--kex K] [--cipher C] [--mac M] [--compression Z]
       [--info FILE] [--log FILE] [--host H] COMMAND

The server's host key is pinned: it must be in FILE (RejectPolicy for unknown hosts).
Each of ALG, K, C, M and Z given is the only one of its kind offered.
The remote stdout and stderr are copied byte for byte; the exit status is the remote
one, or 255 when the connection or the command fails (the reason goes to stderr).
--info writes the negotiated algorithms as JSON; --log writes paramiko's DEBUG log.
"""

import json
import logging
import sys

import paramiko
from peer_args import client_args

HOST_KEY_ALGS = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
    "ssh-dss",
]


class Agreement(logging.Handler):
    """Collects paramiko's `Kex: ...`, `HostKey: ...`, `Cipher: ...`, `MAC: ...` lines."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.found = {}

    def emit(self, record):
        msg = record.getMessage()
        for name in ("Kex", "HostKey", "Cipher", "MAC"):
            if msg.startswith(name + ": "):
                self.found[name.lower()] = msg[len(name) + 2 :]


def main():
    a = client_args()

    logger = logging.getLogger("paramiko")
    logger.setLevel(logging.DEBUG)
    agreement = Agreement()
    logger.addHandler(agreement)
    if a.log:
        handler = logging.FileHandler(a.log, mode="w")
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        logger.addHandler(handler)

    disabled = {}
    T = paramiko.Transport
    if a.host_key_alg:
        disabled["keys"] = [k for k in HOST_KEY_ALGS if k != a.host_key_alg]
    for kind, wanted, known in (
        ("kex", a.kex, T._kex_info),
        ("ciphers", a.cipher, T._cipher_info),
        ("macs", a.mac, T._mac_info),
        ("compression", a.compression, T._compression_info),
    ):
        if wanted:
            disabled[kind] = [x for x in known if x != wanted]

    client = paramiko.SSHClient()
    # Only the given file: no ~/.ssh/known_hosts, and unknown hosts are refused.
    client.load_host_keys(a.known_hosts)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            a.host,
            port=a.port,
            username=a.user,
            key_filename=a.key,
            look_for_keys=False,
            allow_agent=False,
            disabled_algorithms=disabled,
            compress=bool(a.compression and a.compression != "none"),
            timeout=30,
            banner_timeout=30,
            auth_timeout=30,
        )
        if a.info:
            with open(a.info, "w") as f:
                json.dump(agreement.found, f)
        _, stdout, stderr = client.exec_command(a.command, timeout=60)
        stdout.channel.shutdown_write()
        # Read stderr on this thread after stdout: both are buffered by paramiko's
        # transport thread, so neither read blocks the other for small outputs.
        out = stdout.read()
        err = stderr.read()
        status = stdout.channel.recv_exit_status()
    except Exception as e:  # noqa: BLE001 - any failure is reported the same way
        sys.stderr.write(f"paramiko_client: {type(e).__name__}: {e}\n")
        if a.info:
            with open(a.info, "w") as f:
                json.dump(agreement.found, f)
        return 255
    finally:
        client.close()
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(err)
    sys.stderr.buffer.flush()
    return status if 0 <= status <= 255 else 255


if __name__ == "__main__":
    sys.exit(main())
