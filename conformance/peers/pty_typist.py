#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and types a line into it one key at a time.

usage: pty_typist.py LINE -- COMMAND [ARG...]

Types LINE (followed by a newline) a character every 150 ms once the command has had a
second to start, then types `exit 7`. Prints the command's output, then its exit status on
the last line as `status N`. A real terminal is what makes OpenSSH 9.5+ send keystroke-timing
chaff (SSH2_MSG_PING) to a server that advertises ping@openssh.com.
"""
import os
import pty
import select
import sys
import time


def main():
    sep = sys.argv.index("--")
    line, cmd = sys.argv[1], sys.argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(cmd[0], cmd)
    out = bytearray()

    def pump(seconds):
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return
                if not data:
                    return
                out.extend(data)

    pump(1.0)
    for ch in line + "\n":
        os.write(fd, ch.encode())
        pump(0.15)
    pump(1.0)
    os.write(fd, b"exit 7\n")
    pump(3.0)
    deadline = time.time() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.time() > deadline:
            os.kill(pid, 9)
            done, status = os.waitpid(pid, 0)
            break
        pump(0.1)
    sys.stdout.write(out.decode(errors="replace"))
    sys.stdout.write("\nstatus %d\n" % os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
