#include "core/crypto.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace crud::core {
namespace {

TEST(Crypto, Sha256KnownAnswer) {
  EXPECT_EQ(to_hex(as_view(sha256("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(to_hex(as_view(hmac_sha256("Jefe", "what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// Each thread reuses its hashing contexts: nothing of one call (a key, a partial digest) may
// reach the next, in any order, on any thread.
TEST(Crypto, ReusedContextsCarryNothingOver) {
  const std::string long_key(131, '\xaa');  // RFC 4231 case 6: longer than a block
  auto check = [&] {
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(to_hex(as_view(hmac_sha256("Jefe", "what do ya want for nothing?"))),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
      // An empty key is a key of its own, not "the previous call's".
      EXPECT_EQ(to_hex(as_view(hmac_sha256("", ""))),
                "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
      EXPECT_EQ(to_hex(as_view(hmac_sha256(
                    long_key, "Test Using Larger Than Block-Size Key - Hash Key First"))),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
      EXPECT_EQ(to_hex(as_view(sha256(std::string(1000, 'a')))),
                "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
      EXPECT_EQ(to_hex(as_view(sha256(""))),
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
  };
  check();
  std::thread other(check);
  other.join();
}

TEST(Crypto, Base64UrlRoundTrips) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba",
                                                       "foobar", std::string("\xff\xfe\x00", 3)}) {
    auto back = base64url_decode(base64url_encode(s));
    ASSERT_TRUE(back) << s;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Crypto, Base64UrlRejectsNonCanonicalInput) {
  EXPECT_FALSE(base64url_decode("Zm9v="));  // padding
  EXPECT_FALSE(base64url_decode("Zm+v"));   // standard alphabet
  EXPECT_FALSE(base64url_decode("Z"));      // impossible length
  EXPECT_FALSE(base64url_decode("Zh"));     // non-zero trailing bits ("Zg" is canonical)
  EXPECT_TRUE(base64url_decode("Zg"));
}

TEST(Crypto, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

}  // namespace
}  // namespace crud::core
