#!/usr/bin/env python3
"""asyncssh's start_sftp_client against an SFTP server, for the interop tests (sftp_serve.rs).

Usage: sftp_serve_asyncssh.py --port N --user U --key KEY --known-hosts FILE
       --local DIR --remote DIR --back DIR

put(recurse=True, preserve=True) of DIR to the remote directory, then get(recurse=True,
preserve=True) of it to --back. Exits 0 on success; any failure goes to stderr, 1. The
server's host key must be in FILE.
"""

import argparse
import asyncio
import sys

import asyncssh


def args():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--known-hosts", required=True)
    p.add_argument("--local", required=True)
    p.add_argument("--remote", required=True)
    p.add_argument("--back", required=True)
    return p.parse_args()


async def run(a):
    async with asyncssh.connect(
        a.host,
        port=a.port,
        username=a.user,
        client_keys=[a.key],
        known_hosts=a.known_hosts,
        agent_path=None,
        connect_timeout=30,
    ) as conn:
        async with conn.start_sftp_client() as sftp:
            await sftp.put(a.local, a.remote, recurse=True, preserve=True)
            await sftp.get(a.remote, a.back, recurse=True, preserve=True)


def main():
    a = args()
    try:
        asyncio.run(run(a))
    except Exception as e:  # noqa: BLE001 - any failure is reported the same way
        sys.stderr.write(f"sftp_serve_asyncssh: {type(e).__name__}: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
