#!/usr/bin/env python3
"""A stand-in for the resolver (pgl-host, issue 5), speaking the protocol
of docs/resolver.md: one request line "NAME\\n" per connection, one reply
line "ok\\n", "none\\n" or "error\\n".

  fake-resolver.py SOCKET MODE LOG [MKCACHE CACHE SHADOW SPEC]

MODE ok: appends NAME to SPEC as a user, rewrites the cache with mkcache,
answers "ok".  MODE silent: reads the request and never answers.  Every
request line is appended to LOG."""
import os
import socket
import subprocess
import sys

# The resolver's own lookups must never come back to it.
os.environ["PGL_NSS_NO_RESOLVE"] = "1"


def serve(conn, mode, log, args):
    data = b""
    while b"\n" not in data and len(data) < 64:
        chunk = conn.recv(64)
        if not chunk:
            break
        data += chunk
    with open(log, "ab") as f:
        f.write(data if data.endswith(b"\n") else data + b"\n")
    if mode == "silent":
        while conn.recv(64):
            pass
        return
    name = data.split(b"\n")[0].decode()
    mkcache, cache, shadow, spec = args
    with open(spec, "a") as f:
        f.write("user:%s:100777:Fetched:/home/%s:/bin/sh:0:%s@vm-01:"
                "deploy:none:\n" % (name, name, name))
    with open(spec) as f:
        r = subprocess.run([mkcache, "--no-local", cache, shadow], stdin=f)
    conn.sendall(b"ok\n" if r.returncode == 0 else b"error\n")


def main():
    path, mode, log = sys.argv[1:4]
    args = sys.argv[4:8]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    while True:
        conn, _ = s.accept()
        with conn:
            serve(conn, mode, log, args)


if __name__ == "__main__":
    main()
