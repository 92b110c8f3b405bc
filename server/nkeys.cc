#include "server/nkeys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace natsd {
namespace {

constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kBase64Std =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// The seed prefix byte's top five bits ('S').
constexpr uint8_t kNkeyPrefixSeed = 18 << 3;

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// Packs `data` into characters of `bits` bits each (5: base32, 6: base64),
// most significant first, without padding.
std::string EncodeBits(std::string_view data, std::string_view alphabet, int bits) {
  std::string out;
  uint32_t buffer = 0;
  int held = 0;
  const uint32_t mask = (1u << bits) - 1;
  for (unsigned char c : data) {
    buffer = (buffer << 8) | c;
    held += 8;
    while (held >= bits) {
      out += alphabet[(buffer >> (held - bits)) & mask];
      held -= bits;
    }
  }
  if (held > 0) out += alphabet[(buffer << (bits - held)) & mask];
  return out;
}

std::string Base32Encode(std::string_view data) {
  return EncodeBits(data, kBase32Alphabet, 5);
}

std::optional<std::string> Base32Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const size_t v = kBase32Alphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

// Splits off and checks the trailing little-endian CRC16.
std::optional<std::string> CheckCrc(std::optional<std::string> raw) {
  if (!raw.has_value() || raw->size() < 2) return std::nullopt;
  const size_t n = raw->size() - 2;
  const uint16_t want = static_cast<uint8_t>((*raw)[n]) |
                        static_cast<uint16_t>(static_cast<uint8_t>((*raw)[n + 1]) << 8);
  raw->resize(n);
  if (NkeyCrc16(*raw) != want) return std::nullopt;
  return raw;
}

std::string WithCrc(std::string raw) {
  const uint16_t crc = NkeyCrc16(raw);
  raw += static_cast<char>(crc & 0xff);
  raw += static_cast<char>(crc >> 8);
  return raw;
}

std::optional<std::string> Base64Decode(std::string_view text,
                                        std::string_view alphabet, bool padded) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  size_t chars = 0;  // alphabet characters and padding, CR/LF excluded
  size_t pad = 0;
  for (char c : text) {
    if (c == '\r' || c == '\n') continue;
    if (c == '=') {
      if (!padded) return std::nullopt;
      ++pad;
      ++chars;
      continue;
    }
    if (pad > 0) return std::nullopt;  // data after padding
    const size_t v = alphabet.find(c);
    if (v == std::string_view::npos || c == '\0') return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++chars;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  const size_t data_chars = chars - pad;
  if (data_chars % 4 == 1) return std::nullopt;  // 6 bits cannot end a byte
  if (padded) {
    if (chars % 4 != 0 || pad > 2) return std::nullopt;
    if (pad != (4 - data_chars % 4) % 4) return std::nullopt;
  }
  return out;
}

}  // namespace

uint16_t NkeyCrc16(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char c : data) {
    crc ^= static_cast<uint16_t>(c) << 8;
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

absl::StatusOr<NkeyPublicKey> DecodeNkeyPublicKey(std::string_view text,
                                                  uint8_t prefix) {
  std::optional<std::string> raw = CheckCrc(Base32Decode(text));
  if (!raw.has_value()) return absl::InvalidArgumentError("nkeys: invalid encoded key");
  if (raw->size() != 33 || static_cast<uint8_t>((*raw)[0]) != prefix) {
    return absl::InvalidArgumentError("nkeys: invalid public key");
  }
  NkeyPublicKey key;
  std::memcpy(key.data(), raw->data() + 1, key.size());
  return key;
}

bool VerifyNkeySignature(const NkeyPublicKey& key, std::string_view message,
                         std::string_view signature) {
  if (signature.size() != 64) return false;
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(),
                                           key.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (pkey == nullptr || ctx == nullptr) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(),
                          reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

std::optional<std::string> DecodeBase64RawUrl(std::string_view text) {
  return Base64Decode(text, kBase64Url, /*padded=*/false);
}

std::optional<std::string> DecodeBase64Std(std::string_view text) {
  return Base64Decode(text, kBase64Std, /*padded=*/true);
}

std::string EncodeBase64RawUrl(std::string_view data) {
  return EncodeBits(data, kBase64Url, 6);
}

std::string NewNonce() {
  unsigned char raw[11];
  // RAND_bytes only fails when the CSPRNG cannot be seeded; a predictable
  // nonce would allow replaying a signature, so that is fatal.
  if (RAND_bytes(raw, sizeof(raw)) != 1) std::abort();
  return EncodeBase64RawUrl(std::string_view(reinterpret_cast<char*>(raw), sizeof(raw)));
}

NkeyUserKeyPair::NkeyUserKeyPair(const std::array<uint8_t, 32>& seed) : seed_(seed) {
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(),
                                            seed_.size()));
  size_t len = public_key_.size();
  if (pkey == nullptr ||
      EVP_PKEY_get_raw_public_key(pkey.get(), public_key_.data(), &len) != 1) {
    std::abort();  // only on allocation failure: a 32-byte seed is always valid
  }
}

absl::StatusOr<NkeyUserKeyPair> NkeyUserKeyPair::FromSeed(std::string_view seed) {
  std::optional<std::string> raw = CheckCrc(Base32Decode(seed));
  if (!raw.has_value() || raw->size() != 34) {
    return absl::InvalidArgumentError("nkeys: invalid seed");
  }
  const uint8_t b0 = static_cast<uint8_t>((*raw)[0]);
  const uint8_t b1 = static_cast<uint8_t>((*raw)[1]);
  const uint8_t type = static_cast<uint8_t>(((b0 & 7) << 5) | (b1 >> 3));
  if ((b0 & 0xf8) != kNkeyPrefixSeed || type != kNkeyPrefixUser) {
    return absl::InvalidArgumentError("nkeys: invalid seed");
  }
  std::array<uint8_t, 32> s;
  std::memcpy(s.data(), raw->data() + 2, s.size());
  return NkeyUserKeyPair(s);
}

NkeyUserKeyPair NkeyUserKeyPair::Generate() {
  std::array<uint8_t, 32> s;
  if (RAND_bytes(s.data(), static_cast<int>(s.size())) != 1) std::abort();
  return NkeyUserKeyPair(s);
}

std::string NkeyUserKeyPair::PublicKey() const {
  std::string raw(1, static_cast<char>(kNkeyPrefixUser));
  raw.append(reinterpret_cast<const char*>(public_key_.data()), public_key_.size());
  return Base32Encode(WithCrc(std::move(raw)));
}

std::string NkeyUserKeyPair::Seed() const {
  std::string raw;
  raw += static_cast<char>(kNkeyPrefixSeed | (kNkeyPrefixUser >> 5));
  raw += static_cast<char>((kNkeyPrefixUser & 31) << 3);
  raw.append(reinterpret_cast<const char*>(seed_.data()), seed_.size());
  return Base32Encode(WithCrc(std::move(raw)));
}

std::string NkeyUserKeyPair::Sign(std::string_view message) const {
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(),
                                            seed_.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string sig(64, '\0');
  size_t len = sig.size();
  if (pkey == nullptr || ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    std::abort();  // only on allocation failure
  }
  return sig;
}

}  // namespace natsd
