"""TLS seen from the wire: the INFO a TLS server sends in plaintext, and what
a client that does not start the handshake gets (certificates:
harness/certs.py)."""
from harness.raw import case

TLS_VERIFY = """tls {
  cert_file: "{certs}/server-cert.pem"
  key_file: "{certs}/server-key.pem"
  ca_file: "{certs}/ca.pem"
  verify: true
  timeout: 0.5
}
"""


@case(config=TLS_VERIFY)
def tls_info_plaintext(t):
    t.conn()  # records the INFO: tls_required, tls_verify


@case(flags=["--tls", "--tlscert", "{certs}/server-cert.pem", "--tlskey", "{certs}/server-key.pem"])
def tls_info_from_flags(t):
    t.conn()


@case(config=TLS_VERIFY)
def tls_plaintext_connect_is_closed(t):
    c = t.conn({"verbose": True})
    c.send("PING\r\n")
    c.expect_closed(timeout=3)


@case(config=TLS_VERIFY)
def tls_handshake_timeout_closes(t):
    c = t.conn()
    c.expect_closed(timeout=3)
