package main

import (
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
)

// TLS cases. Certificates come from conformance/harness/certs.py
// (NATS_CONF_CERTS). A server's rejection is recorded as "rejected" rather
// than by its text: Go's server and natsd's OpenSSL word some alerts
// differently, while what matters is that the client cannot connect.

const tlsVerifyConfig = `tls {
  cert_file: "{certs}/server-cert.pem"
  key_file: "{certs}/server-key.pem"
  ca_file: "{certs}/ca.pem"
  verify: true
}
`

func cert(name string) string { return filepath.Join(os.Getenv("NATS_CONF_CERTS"), name) }

// tlsOpts trusts `ca` and presents the client certificate `client`
// ("client", "other-client", or "" for none).
func tlsOpts(ca, client string) []nats.Option {
	opts := []nats.Option{nats.RootCAs(cert(ca))}
	if client != "" {
		opts = append(opts, nats.ClientCert(cert(client+"-cert.pem"), cert(client+"-key.pem")))
	}
	return opts
}

func tryConnect(t *T, opts []nats.Option) error {
	nc, err := nats.Connect(t.URL, append([]nats.Option{nats.Timeout(5 * time.Second)}, opts...)...)
	if err == nil {
		// A TLS 1.3 client finishes before the server checked its
		// certificate; the round trip shows whether it was accepted.
		err = nc.Flush()
		nc.Close()
	}
	return err
}

func outcome(err error) string {
	if err == nil {
		return "OK"
	}
	return "rejected"
}

func init() {
	reg("tls_verify_pub_sub", func(t *T) {
		nc := t.Connect(tlsOpts("ca.pem", "client")...)
		t.Obs("tls_required=%v", nc.TLSRequired())
		sub, _ := nc.SubscribeSync("tls.foo")
		big := make([]byte, 100000)
		for i := range big {
			big[i] = byte('a' + i%26)
		}
		nc.Publish("tls.foo", big)
		m, err := sub.NextMsg(wait)
		t.Check(err, "message")
		t.Obs("got %d bytes, intact=%v", len(m.Data), string(m.Data) == string(big))
	}, tlsVerifyConfig)
	reg("tls_verify_client_cert_missing", func(t *T) {
		t.Obs("connect: %s", outcome(tryConnect(t, tlsOpts("ca.pem", ""))))
	}, tlsVerifyConfig)
	reg("tls_verify_client_cert_other_ca", func(t *T) {
		t.Obs("connect: %s", outcome(tryConnect(t, tlsOpts("ca.pem", "other-client"))))
	}, tlsVerifyConfig)
	reg("tls_client_trusts_other_ca", func(t *T) {
		// The client refuses the server, in its own words.
		t.Obs("connect: %s", ErrText(tryConnect(t, tlsOpts("other-ca.pem", "client"))))
	}, tlsVerifyConfig)
	reg("tls_without_client_options", func(t *T) {
		// Without TLS options nats.go still upgrades when INFO requires TLS,
		// verifying the server against the system roots.
		t.Obs("connect: %s", ErrText(tryConnect(t, nil)))
	}, tlsVerifyConfig)
	reg("tls_verify_and_map", func(t *T) {
		nc := t.Connect(tlsOpts("ca.pem", "client")...)
		t.Obs("flush: %s", ErrText(nc.Flush()))
		t.Obs("other CA: %s", outcome(tryConnect(t, tlsOpts("ca.pem", "other-client"))))
	}, `tls {
  cert_file: "{certs}/server-cert.pem"
  key_file: "{certs}/server-key.pem"
  ca_file: "{certs}/ca.pem"
  verify_and_map: true
}
authorization { users: [ {user: "alice@example.com"} ] }
`)
}
