#!/usr/bin/python3
"""Independent DKIM check for the test suite (dkimpy, Debian's python3-dkim).

Usage: verify_dkim.py TXT_VALUE [DNS_NAME] < message.eml

Verifies the first DKIM-Signature of the message on stdin, answering the key query with TXT_VALUE
(e.g. "k=rsa; p=MIIB..."). With DNS_NAME (e.g. "sel._domainkey.example.com") only that name gets an
answer, so a wrong d= or s= fails too. Prints "pass" or "fail" on stdout, the reason on stderr.
"""
import logging
import sys

import dkim


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    txt = sys.argv[1].encode("ascii")
    expected = sys.argv[2].rstrip(".").lower() if len(sys.argv) == 3 else None
    message = sys.stdin.buffer.read()

    def dnsfunc(name, timeout=5):
        queried = (name.decode("ascii") if isinstance(name, bytes) else name).rstrip(".").lower()
        if expected is not None and queried != expected:
            print("queried %s, expected %s" % (queried, expected), file=sys.stderr)
            return None
        return txt

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="dkim: %(message)s")
    ok = dkim.verify(message, logger=logging.getLogger("dkim"), dnsfunc=dnsfunc)
    print("pass" if ok else "fail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
