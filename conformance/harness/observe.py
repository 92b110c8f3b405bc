"""Observations: what a client saw, normalised so the two servers can be compared.

An observation is a list of text lines. INFO lines are rewritten into a
canonical JSON form in which values that legitimately differ between two
servers (ids, names, versions, ports, nonces...) are replaced by placeholders;
the key set and every other value are compared as they are.
"""
import difflib
import json
import re

# INFO keys whose values differ between any two servers; their presence still counts.
VOLATILE_INFO_KEYS = {
    "server_id": "<id>", "server_name": "<name>", "version": "<version>", "go": "<go>",
    "git_commit": "<git>", "port": "<port>", "client_id": "<cid>", "nonce": "<nonce>",
    "connect_urls": "<urls>", "ws_connect_urls": "<urls>", "ip": "<ip>", "xkey": "<xkey>",
    "cluster": "<cluster>",
}

_INFO_RE = re.compile(rb"INFO (\{.*?\}) ?\r\n")


def normalise_info_json(text):
    """Returns the canonical form of an INFO JSON object (text) or raises ValueError."""
    info = json.loads(text)
    for k, v in VOLATILE_INFO_KEYS.items():
        if k in info:
            info[k] = v
    return json.dumps(info, sort_keys=True, separators=(",", ":"))


def normalise_bytes(data):
    """Bytes from the wire as a printable string, with INFO JSON canonicalised."""
    out = []
    pos = 0
    for m in _INFO_RE.finditer(data):
        out.append(_escape(data[pos:m.start()]))
        try:
            # Keep the exact framing ("INFO " ... " \r\n") visible; only the JSON is rewritten.
            trailer = data[m.end(1):m.end()]
            out.append("INFO " + normalise_info_json(m.group(1)) + _escape(trailer))
        except ValueError:
            out.append(_escape(m.group(0)))
        pos = m.end()
    out.append(_escape(data[pos:]))
    return "".join(out)


def _escape(b):
    out = []
    for ch in b.decode("latin-1"):
        if ch in _NAMED:
            out.append(_NAMED[ch])
        elif " " <= ch < "\x7f":
            out.append(ch)
        else:
            out.append("\\x%02x" % ord(ch))
    return "".join(out)


_NAMED = {"\\": "\\\\", "\r": "\\r", "\n": "\\n", "\t": "\\t"}


def diff(ref_lines, natsd_lines):
    """Unified diff of two observations (reference first)."""
    return "\n".join(difflib.unified_diff(ref_lines, natsd_lines, "reference", "natsd", lineterm="", n=2))
