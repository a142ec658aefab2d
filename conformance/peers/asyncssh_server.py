#!/usr/bin/env python3
"""An SSH server on asyncssh for the interop matrix (conformance/tests/matrix.rs).

Usage: asyncssh_server.py --port N --authorized-keys FILE --host-key KEY [--host-key KEY]...

Listens on 127.0.0.1:N (0 picks a free port) and prints `listening on PORT`. Every
algorithm asyncssh implements is enabled (key exchange without GSS, ciphers, MACs,
compression, host-key signatures), with every host key given, so the client's offer alone
decides what is negotiated. Any user may log in with a key from FILE; `exec` runs the
command with /bin/sh and returns its stdout, stderr and exit status.
"""

import argparse
import asyncio
import sys

import asyncssh
from asyncssh.compression import get_compression_algs
from asyncssh.encryption import get_encryption_algs
from asyncssh.kex import get_kex_algs
from asyncssh.mac import get_mac_algs
from asyncssh.public_key import get_public_key_algs


async def handle(process):
    try:
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            process.command or "",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        process.stdout.write(out)
        process.stderr.write(err)
        process.exit(proc.returncode)
    except Exception as e:  # noqa: BLE001 - reported to the client
        process.stderr.write(f"asyncssh_server: {e}\n".encode())
        process.exit(255)


def names(algs):
    return [a.decode() for a in algs if not a.startswith(b"gss-")]


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--authorized-keys", required=True)
    p.add_argument("--host-key", action="append", required=True)
    a = p.parse_args()
    server = await asyncssh.listen(
        "127.0.0.1",
        a.port,
        server_host_keys=a.host_key,
        authorized_client_keys=a.authorized_keys,
        kex_algs=names(get_kex_algs()),
        encryption_algs=names(get_encryption_algs()),
        mac_algs=names(get_mac_algs()),
        compression_algs=names(get_compression_algs()),
        signature_algs=names(get_public_key_algs()),
        process_factory=handle,
        encoding=None,
        allow_scp=False,
        login_timeout=60,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
