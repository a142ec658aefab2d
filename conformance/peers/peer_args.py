"""The command line every peer client script takes (the matrix and serve_clients.rs pass it)."""
import argparse


def client_args():
    """Parses `--port --user --key --known-hosts [--host-key-alg --kex --cipher --mac
    --compression --info --log] command`."""
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--known-hosts", required=True)
    p.add_argument("--host-key-alg")
    p.add_argument("--kex")
    p.add_argument("--cipher")
    p.add_argument("--mac")
    p.add_argument("--compression")
    p.add_argument("--info")
    p.add_argument("--log")
    p.add_argument("command")
    return p.parse_args()
