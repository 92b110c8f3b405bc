"""TLS certificates for the TLS cases, generated once per run.

On import, unless the environment already names a directory
(NATS_CONF_CERTS), the openssl command line makes one under the run's temp
dir (removed at exit) holding:

    ca.pem                              the CA both servers' certificates chain to
    server-cert.pem, server-key.pem     for localhost and 127.0.0.1
    client-cert.pem, client-key.pem     C=US,O=NATS,OU=Test,CN=client, signed by ca.pem,
                                        SANs email:alice@example.com, DNS:client.example.com
    other-ca.pem                        an unrelated CA
    other-client-cert.pem, -key.pem     a client certificate other-ca.pem signed

Every client program the runner starts inherits NATS_CONF_CERTS; server
configs and flags say "{certs}" where the directory goes (servers.Server and
the C harness substitute it). No private key is ever checked in.
"""
import atexit
import os
import shutil
import subprocess
import tempfile

_SCRIPT = r"""set -e
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }
ca() { key "$1-key.pem"; openssl req -x509 -new -key "$1-key.pem" -out "$1.pem" -days 2 -subj "/CN=$2"; }
leaf() { key "$1-key.pem"; openssl req -new -key "$1-key.pem" -out "$1.csr" -subj "$2"
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3-key.pem" -CAcreateserial -out "$1-cert.pem" -days 2 -extfile "$1.ext"; }
ca ca "natsd conformance CA"
ca other-ca "untrusted CA"
leaf server /CN=localhost ca "subjectAltName=DNS:localhost,IP:127.0.0.1"
leaf client "/C=US/O=NATS/OU=Test/CN=client" ca "subjectAltName=email:alice@example.com,DNS:client.example.com"
leaf other-client /CN=other other-ca "subjectAltName=DNS:other.example.com"
"""


def _generate():
    d = tempfile.mkdtemp(prefix="natsconf-certs-")
    atexit.register(shutil.rmtree, d, True)
    p = subprocess.run(["sh", "-c", _SCRIPT], cwd=d, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("generating TLS certificates failed: %s" % p.stderr[-2000:])
    return d


if not os.environ.get("NATS_CONF_CERTS"):
    os.environ["NATS_CONF_CERTS"] = _generate()
DIR = os.environ["NATS_CONF_CERTS"]
