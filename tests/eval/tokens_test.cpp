#include "eval/tokens.h"

#include <gtest/gtest.h>

#include "support/error_message.h"
#include "support/tiny_model.h"

namespace weld {
namespace {

TEST(Tokens, ReadsLittleEndianUint32) {
  test::TempDir dir;
  test::write_file(dir / "t.bin",
                   std::string("\x01\x00\x00\x00\x00\x01\x00\x00\xff\xff\xff\xff", 12));
  EXPECT_EQ(read_token_file(dir / "t.bin"), (std::vector<std::uint32_t>{1, 256, 0xffffffffu}));
}

TEST(Tokens, TextIsBytes) {
  test::TempDir dir;
  test::write_file(dir / "t.txt", "Hi\n\xc3\xa9");
  EXPECT_EQ(read_text_file(dir / "t.txt"), (std::vector<std::uint32_t>{72, 105, 10, 0xc3, 0xa9}));
}

TEST(Tokens, BadFilesAreNamed) {
  test::TempDir dir;
  test::write_file(dir / "t.bin", "abcdef");
  EXPECT_EQ(test::error_message([&] { read_token_file(dir / "t.bin"); }),
            dir / "t.bin" + ": 6 bytes is not a whole number of uint32 token ids");
  EXPECT_EQ(test::error_message([&] { read_token_file(dir / "missing.bin"); }),
            dir / "missing.bin" + ": cannot open");
  EXPECT_EQ(test::error_message([] {
              check_token_ids({0, 5, 9}, 9, "t.bin");
            }),
            "t.bin: token 2 is id 9, not below the vocabulary size 9");
}

}  // namespace
}  // namespace weld
