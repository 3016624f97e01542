#include "io/read_probe.h"

#include <gtest/gtest.h>

#include <string>

#include "support/tiny_model.h"

namespace weld::test {
namespace {

constexpr std::size_t kProbeBytes = kProbePieces * kProbePieceBytes;

MappedFile file_of(const TempDir& dir, std::size_t size) {
  write_file(dir / "f", std::string(size, 'w'));
  return MappedFile::open(dir / "f");
}

TEST(ReadProbe, TimesBothWaysOfReadingARangeLargeEnough) {
  TempDir dir;
  const MappedFile file = file_of(dir, 2 * kProbeBytes + 12345);
  // From the start, and from an offset that is not on a page boundary.
  for (const std::size_t offset : {std::size_t{0}, std::size_t{100}}) {
    const std::optional<ReadProbe> probe = probe_reads(file, offset, file.size() - offset);
    ASSERT_TRUE(probe.has_value()) << offset;
    EXPECT_GT(probe->mapped_seconds, 0.0) << offset;
    EXPECT_GT(probe->copied_seconds, 0.0) << offset;
  }
}

TEST(ReadProbe, ARangeSmallerThanItsPiecesCannotTell) {
  TempDir dir;
  const MappedFile file = file_of(dir, kProbeBytes + 8192);
  EXPECT_FALSE(probe_reads(file, 0, kProbeBytes - 1).has_value());
  // Whole, the file holds the pieces only once the start is rounded up to a page.
  EXPECT_TRUE(probe_reads(file, 0, file.size()).has_value());
  EXPECT_FALSE(probe_reads(file, 1, kProbeBytes).has_value());
}

TEST(ReadProbe, MapIsFasterWhenItTookLessThanTheCopiesOfEveryRead) {
  EXPECT_TRUE((ReadProbe{.mapped_seconds = 1, .copied_seconds = 2}).mapped_is_faster());
  EXPECT_FALSE((ReadProbe{.mapped_seconds = 2, .copied_seconds = 1}).mapped_is_faster());
  // Read twice, the copies cost twice: a first touch of 1.5 copies is then the cheaper.
  EXPECT_TRUE((ReadProbe{.mapped_seconds = 1.5, .copied_seconds = 1}).mapped_is_faster(2.0));
  EXPECT_FALSE((ReadProbe{.mapped_seconds = 2.5, .copied_seconds = 1}).mapped_is_faster(2.0));
}

}  // namespace
}  // namespace weld::test
