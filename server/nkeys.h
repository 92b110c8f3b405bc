// NKEYS: the NATS Ed25519 key encoding, and what the server needs of it to
// authenticate a client by signature.
//
// A public key is written as base32 (RFC 4648, no padding) of
//   prefix byte | 32-byte Ed25519 public key | CRC16-XMODEM (little endian)
// where the prefix byte's top five bits name the key type ('U' for users:
// 20 << 3). A seed is base32 of
//   (18 << 3 | type >> 5) | (type & 31) << 3 | 32-byte seed | CRC16
// so that every seed starts with 'S' and the type letter ("SU...").
//
// The server sends a random nonce in INFO; a client owning a user key signs
// it and sends the signature (base64url) and its public key in CONNECT.
//
//   absl::StatusOr<NkeyPublicKey> key = DecodeUserPublicKey("UDXU4RCS...");
//   bool ok = key.ok() && VerifyNkeySignature(*key, nonce, signature_bytes);
//
// Thread-safety: every function is reentrant; OpenSSL's Ed25519 and RAND are
// thread-safe.
#ifndef NATSD_SERVER_NKEYS_H_
#define NATSD_SERVER_NKEYS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace natsd {

using NkeyPublicKey = std::array<uint8_t, 32>;

// The user-key prefix byte ('U' in base32).
inline constexpr uint8_t kNkeyPrefixUser = 20 << 3;

// CRC16-XMODEM (poly 0x1021, init 0), the checksum NKEYS append.
uint16_t NkeyCrc16(std::string_view data);

// Decodes a public key of type `prefix` (kNkeyPrefixUser for users).
// InvalidArgument when the text is not base32, has the wrong length, prefix
// or checksum.
absl::StatusOr<NkeyPublicKey> DecodeNkeyPublicKey(std::string_view text,
                                                  uint8_t prefix);
inline bool IsValidPublicUserKey(std::string_view text) {
  return DecodeNkeyPublicKey(text, kNkeyPrefixUser).ok();
}

// Whether `signature` (64 raw bytes) is `key`'s Ed25519 signature of
// `message`.
bool VerifyNkeySignature(const NkeyPublicKey& key, std::string_view message,
                         std::string_view signature);

// Base64 decoding as Go's encoding/base64 does it: the URL alphabet without
// padding (RawURLEncoding), or the standard alphabet with padding
// (StdEncoding). A character outside the alphabet or wrong padding fails
// (nullopt); as in Go's non-strict mode, CR and LF are skipped and unused
// trailing bits are not checked.
std::optional<std::string> DecodeBase64RawUrl(std::string_view text);
std::optional<std::string> DecodeBase64Std(std::string_view text);
// RawURLEncoding of `data`.
std::string EncodeBase64RawUrl(std::string_view data);

// A fresh INFO nonce: 11 random bytes, base64url without padding (15
// characters), as the reference sends.
std::string NewNonce();

// A user key pair from its seed text ("SU..."): what a client holds. The
// server never needs a seed; tools and tests sign nonces with it.
class NkeyUserKeyPair {
 public:
  // InvalidArgument unless `seed` is a valid user seed.
  static absl::StatusOr<NkeyUserKeyPair> FromSeed(std::string_view seed);
  // A new random key pair.
  static NkeyUserKeyPair Generate();

  // "U..." (56 characters).
  std::string PublicKey() const;
  // "SU..." (58 characters).
  std::string Seed() const;
  // The 64-byte Ed25519 signature of `message`.
  std::string Sign(std::string_view message) const;

 private:
  explicit NkeyUserKeyPair(const std::array<uint8_t, 32>& seed);

  std::array<uint8_t, 32> seed_;
  NkeyPublicKey public_key_;
};

}  // namespace natsd

#endif  // NATSD_SERVER_NKEYS_H_
