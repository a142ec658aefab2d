#!/usr/bin/env python3
"""An SSH server on paramiko for the interop matrix (conformance/tests/matrix.rs).

Usage: paramiko_server.py --port N --authorized-keys FILE --host-key KEY [--host-key KEY]...

Listens on 127.0.0.1:N (0 picks a free port) and prints `listening on PORT`. Every
algorithm paramiko implements is enabled (key exchange, ciphers, MACs, compression),
with every host key given, so the client's offer alone decides what is negotiated. Any
user may log in with a key from FILE; `exec` runs the command with /bin/sh and returns
its stdout, stderr and exit status. Each connection is served on its own thread.
"""

import argparse
import logging
import socket
import subprocess
import sys
import threading

import paramiko
import paramiko.common


def load_key(path):
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key_file(path)
        except (paramiko.SSHException, ValueError):
            continue
    raise SystemExit(f"paramiko_server: cannot load host key {path}")


def load_authorized(path):
    keys = set()
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                keys.add((parts[0], parts[1]))
    return keys


class Server(paramiko.ServerInterface):
    def __init__(self, authorized):
        self.authorized = authorized

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        if (key.get_name(), key.get_base64()) in self.authorized:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        # Started once paramiko has sent the reply (see `handle_request`): output, EOF
        # and CLOSE must not overtake CHANNEL_SUCCESS.
        channel.matrix_command = command
        return True


ORIGINAL_HANDLE_REQUEST = paramiko.Channel._handle_request


def handle_request(channel, m):
    """paramiko's request handler, then the exec it accepted (after the reply is sent)."""
    ORIGINAL_HANDLE_REQUEST(channel, m)
    command = getattr(channel, "matrix_command", None)
    if command is not None:
        channel.matrix_command = None
        threading.Thread(target=run, args=(channel, command), daemon=True).start()


# The transport dispatches channel messages through its own table.
paramiko.Transport._channel_handler_table[paramiko.common.MSG_CHANNEL_REQUEST] = handle_request


def run(channel, command):
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", command.decode()],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
        )
        channel.sendall(done.stdout)
        channel.sendall_stderr(done.stderr)
        channel.send_exit_status(done.returncode)
    except Exception as e:  # noqa: BLE001 - reported to the client
        channel.sendall_stderr(f"paramiko_server: {e}\n".encode())
        channel.send_exit_status(255)
    finally:
        channel.shutdown_write()
        channel.close()


def serve(sock, host_keys, authorized):
    transport = paramiko.Transport(sock)
    try:
        transport.load_server_moduli()
        transport.use_compression(True)
        for key in host_keys:
            transport.add_server_key(key)
        opts = transport.get_security_options()
        T = paramiko.Transport
        opts.kex = tuple(T._kex_info)
        opts.ciphers = tuple(T._cipher_info)
        opts.digests = tuple(T._mac_info)
        opts.compression = tuple(T._compression_info)
        transport.start_server(server=Server(authorized))
        while transport.is_active():
            channel = transport.accept(30)
            if channel is None:
                break
    except Exception as e:  # noqa: BLE001 - one failed connection is logged, not fatal
        print(f"paramiko_server: connection failed: {type(e).__name__}: {e}", flush=True)
    finally:
        transport.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--authorized-keys", required=True)
    p.add_argument("--host-key", action="append", required=True)
    a = p.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    host_keys = [load_key(k) for k in a.host_key]
    authorized = load_authorized(a.authorized_keys)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", a.port))
    listener.listen(64)
    print(f"listening on {listener.getsockname()[1]}", flush=True)
    while True:
        sock, _ = listener.accept()
        threading.Thread(
            target=serve, args=(sock, host_keys, authorized), daemon=True
        ).start()


if __name__ == "__main__":
    main()
