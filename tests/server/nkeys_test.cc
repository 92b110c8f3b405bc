#include "server/nkeys.h"

#include <string>

#include "gtest/gtest.h"

namespace natsd {
namespace {

// A user seed, its public key and its signature of "hello", made with
// nats.go's nkeys (github.com/nats-io/nkeys).
constexpr std::string_view kSeed =
    "SUAEVSRIXRM7XOSARHR7Q4OGH3XKVORIEAR4PDK4J7IWTPVAMS46MXXFCM";
constexpr std::string_view kPublic =
    "UCYU2H5G7R7QBKQB2UDDIENEIV6QXZBDPFPLNL56PXJ3I56OW6GZYB2P";
constexpr std::string_view kHelloSigHex =
    "c510a95206a0bcbacb175fa9a221ba651596afeba1b4dc86253278704f153a34"
    "bb808fc0f2b5ac80335652d6b818ae94d0992dfb4b25cf5d9c6ae7ead4f1a509";

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

TEST(NkeysTest, Crc16Xmodem) {
  // The standard check value of CRC-16/XMODEM.
  EXPECT_EQ(NkeyCrc16("123456789"), 0x31c3);
  EXPECT_EQ(NkeyCrc16(""), 0);
}

TEST(NkeysTest, SeedGivesKnownPublicKey) {
  absl::StatusOr<NkeyUserKeyPair> kp = NkeyUserKeyPair::FromSeed(kSeed);
  ASSERT_TRUE(kp.ok()) << kp.status();
  EXPECT_EQ(kp->PublicKey(), kPublic);
  EXPECT_EQ(kp->Seed(), kSeed);
  // Ed25519 signatures are deterministic: the same bytes as nats.go's.
  EXPECT_EQ(kp->Sign("hello"), FromHex(kHelloSigHex));
  absl::StatusOr<NkeyPublicKey> pub = DecodeNkeyPublicKey(kPublic, kNkeyPrefixUser);
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(VerifyNkeySignature(*pub, "hello", FromHex(kHelloSigHex)));
}

TEST(NkeysTest, DecodesUserPublicKey) {
  EXPECT_TRUE(IsValidPublicUserKey(kPublic));
  EXPECT_TRUE(DecodeNkeyPublicKey(kPublic, kNkeyPrefixUser).ok());
}

TEST(NkeysTest, RejectsBadKeys) {
  std::string flipped(kPublic);
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';  // checksum no longer matches
  EXPECT_FALSE(IsValidPublicUserKey(flipped));
  EXPECT_FALSE(IsValidPublicUserKey(kPublic.substr(0, 55)));
  EXPECT_FALSE(IsValidPublicUserKey(""));
  EXPECT_FALSE(IsValidPublicUserKey("ucyu2h5g7r7qbkqb2uddienneiv6qxzbdpfplnl56pxj3i56ow6gzyb2p"));
  // A seed is not a public key.
  EXPECT_FALSE(IsValidPublicUserKey(kSeed));
  // An account key ('A') is not a user key.
  constexpr std::string_view kAccount =
      "ADWCL6KNRJFXAGMSG5ENBCCDSHAO6ZZEUBINUHQI2K3JSPJXCMBTI3MH";
  EXPECT_TRUE(DecodeNkeyPublicKey(kAccount, 0 << 3).ok());
  EXPECT_FALSE(IsValidPublicUserKey(kAccount));
}

TEST(NkeysTest, RejectsBadSeeds) {
  EXPECT_FALSE(NkeyUserKeyPair::FromSeed(kPublic).ok());
  EXPECT_FALSE(NkeyUserKeyPair::FromSeed("SUAC").ok());
  std::string bad(kSeed);
  bad[20] = bad[20] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(NkeyUserKeyPair::FromSeed(bad).ok());
}

TEST(NkeysTest, SignAndVerify) {
  NkeyUserKeyPair kp = NkeyUserKeyPair::Generate();
  absl::StatusOr<NkeyPublicKey> pub = DecodeNkeyPublicKey(kp.PublicKey(), kNkeyPrefixUser);
  ASSERT_TRUE(pub.ok());
  const std::string sig = kp.Sign("nonce-123");
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(VerifyNkeySignature(*pub, "nonce-123", sig));
  EXPECT_FALSE(VerifyNkeySignature(*pub, "nonce-124", sig));
  EXPECT_FALSE(VerifyNkeySignature(*pub, "nonce-123", sig.substr(0, 63)));
  std::string tampered = sig;
  tampered[5] ^= 1;
  EXPECT_FALSE(VerifyNkeySignature(*pub, "nonce-123", tampered));
  // Another key's signature does not verify.
  EXPECT_FALSE(VerifyNkeySignature(*pub, "nonce-123",
                                   NkeyUserKeyPair::Generate().Sign("nonce-123")));
}

TEST(NkeysTest, Base64LikeGo) {
  EXPECT_EQ(EncodeBase64RawUrl(""), "");
  EXPECT_EQ(EncodeBase64RawUrl("f"), "Zg");
  EXPECT_EQ(EncodeBase64RawUrl("fo"), "Zm8");
  EXPECT_EQ(EncodeBase64RawUrl("foo"), "Zm9v");
  EXPECT_EQ(EncodeBase64RawUrl("\xfb\xff"), "-_8");
  EXPECT_EQ(DecodeBase64RawUrl("Zm8"), "fo");
  EXPECT_EQ(DecodeBase64RawUrl("-_8"), "\xfb\xff");
  EXPECT_FALSE(DecodeBase64RawUrl("Zm8=").has_value());  // no padding allowed
  EXPECT_FALSE(DecodeBase64RawUrl("+/8").has_value());   // standard alphabet
  EXPECT_FALSE(DecodeBase64RawUrl("Z").has_value());     // 6 bits only
  EXPECT_EQ(DecodeBase64Std("Zm8="), "fo");
  EXPECT_EQ(DecodeBase64Std("+/8="), "\xfb\xff");
  EXPECT_FALSE(DecodeBase64Std("Zm8").has_value());  // padding required
  EXPECT_FALSE(DecodeBase64Std("Zm8=Zm8=").has_value());
}

TEST(NkeysTest, NonceIsFifteenUrlSafeCharacters) {
  const std::string a = NewNonce();
  const std::string b = NewNonce();
  EXPECT_EQ(a.size(), 15u);
  EXPECT_NE(a, b);
  EXPECT_EQ(DecodeBase64RawUrl(a)->size(), 11u);
}

}  // namespace
}  // namespace natsd
