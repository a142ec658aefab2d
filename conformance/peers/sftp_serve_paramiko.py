#!/usr/bin/env python3
"""paramiko's SFTPClient against an SFTP server, for the interop tests (sftp_serve.rs).

Usage: sftp_serve_paramiko.py --port N --user U --key KEY --known-hosts FILE
       --local DIR --remote DIR --back DIR

Uploads the tree DIR to the remote directory (created) with put(), keeping modes and
times (chmod, utime), lists it with listdir_attr() and stat(), downloads it again to
--back with get() (modes and times kept locally), then opens a remote file read-write:
write, seek, read back, truncate. Exits 0 on success; any failure goes to stderr, 1.
The server's host key must be in FILE (RejectPolicy).
"""

import argparse
import os
import stat
import sys

import paramiko


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


def put_tree(sftp, local, remote):
    sftp.mkdir(remote)
    for name in sorted(os.listdir(local)):
        lp, rp = os.path.join(local, name), remote + "/" + name
        st = os.stat(lp)
        if stat.S_ISDIR(st.st_mode):
            put_tree(sftp, lp, rp)
        else:
            attrs = sftp.put(lp, rp)
            if attrs.st_size != st.st_size:
                raise RuntimeError(f"put {rp}: size {attrs.st_size} != {st.st_size}")
            sftp.chmod(rp, stat.S_IMODE(st.st_mode))
            sftp.utime(rp, (int(st.st_atime), int(st.st_mtime)))


def get_tree(sftp, remote, local):
    os.mkdir(local)
    for a in sftp.listdir_attr(remote):
        rp, lp = remote + "/" + a.filename, os.path.join(local, a.filename)
        if stat.S_ISDIR(a.st_mode):
            get_tree(sftp, rp, lp)
        else:
            sftp.get(rp, lp)
            st = sftp.stat(rp)
            if os.path.getsize(lp) != st.st_size:
                raise RuntimeError(f"get {rp}: size differs")
            os.chmod(lp, stat.S_IMODE(st.st_mode))
            os.utime(lp, (st.st_atime, st.st_mtime))


def read_write(sftp, remote):
    path = remote + "/rw.txt"
    with sftp.open(path, "w+") as f:
        f.write(b"hello, sftp world")
        f.seek(7)
        f.write(b"SFTP")
        f.seek(0)
        got = f.read()
        if got != b"hello, SFTP world":
            raise RuntimeError(f"read back {got!r}")
        f.truncate(5)
    if sftp.stat(path).st_size != 5:
        raise RuntimeError("truncate did not shorten the file")
    with sftp.open(path, "r") as f:
        if f.read() != b"hello":
            raise RuntimeError("reopened file differs")
    sftp.remove(path)


def main():
    a = args()
    client = paramiko.SSHClient()
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
            timeout=30,
            banner_timeout=30,
            auth_timeout=30,
        )
        sftp = client.open_sftp()
        put_tree(sftp, a.local, a.remote)
        names = sorted(x.filename for x in sftp.listdir_attr(a.remote))
        if names != sorted(os.listdir(a.local)):
            raise RuntimeError(f"listdir_attr gave {names}")
        get_tree(sftp, a.remote, a.back)
        read_write(sftp, a.remote)
        sftp.close()
    except Exception as e:  # noqa: BLE001 - any failure is reported the same way
        sys.stderr.write(f"sftp_serve_paramiko: {type(e).__name__}: {e}\n")
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
