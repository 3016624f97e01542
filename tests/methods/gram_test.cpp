#include "methods/gram.h"

#include <gtest/gtest.h>

#include "methods/method_test_util.h"

namespace weld::test {
namespace {

TEST(Gram, ByHand) {
  // v1 = [1, 2] - [1, 0] = [0, 2], v2 = [3, 1] - [1, 0] = [2, 1]: G = [[4, 2], [2, 5]].
  const std::vector<float> b = {1, 0}, x1 = {1, 2}, x2 = {3, 1};
  const std::vector<const float*> x = {x1.data(), x2.data()};
  std::vector<LaneSum> gram(gram_sums(2));
  add_to_gram(x, b.data(), 0, 2, gram.data());
  EXPECT_EQ(gram_matrix(gram, 2), (std::vector<double>{4, 2, 2, 5}));
}

// The sums of add_to_gram_lanes over pieces of `cuts` elements equal those of add_to_gram over
// the whole vectors (as the inputs' dtype gives them), bit for bit.
void expect_lanes_gram_matches(std::size_t n_vectors, bool with_base, DType dtype, std::vector<std::size_t> cuts) {
  std::size_t n = 0;
  for (std::size_t cut : cuts) n += cut;
  const std::vector<std::vector<float>> inputs = random_inputs(n_vectors + 1, n, 0.5);
  std::vector<std::vector<std::byte>> bytes;
  std::vector<std::vector<float>> seen;
  for (const auto& x : inputs) {
    bytes.push_back(to_bytes(dtype, x));
    seen.push_back(to_floats(dtype, bytes.back()));
  }
  std::vector<const float*> x;
  std::vector<const std::byte*> x_bytes;
  for (std::size_t i = 1; i <= n_vectors; ++i) {
    x.push_back(seen[i].data());
    x_bytes.push_back(bytes[i].data());
  }
  std::vector<LaneSum> want(gram_sums(n_vectors)), got(gram_sums(n_vectors));
  add_to_gram(x, with_base ? seen[0].data() : nullptr, 0, n, want.data());
  std::uint64_t first = 0;
  for (std::size_t cut : cuts) {
    add_to_gram_lanes(x_bytes, with_base ? bytes[0].data() : nullptr, dtype, first, cut, got.data());
    first += cut;
  }
  for (std::size_t s = 0; s < want.size(); ++s)
    EXPECT_EQ(got[s].value(), want[s].value()) << n_vectors << " vectors, sum " << s << ", " << dtype_name(dtype);
}

TEST(Gram, FromTheInputsBytesMatchesTheFloatSumsToTheBit) {
  for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
    for (std::size_t n_vectors = 1; n_vectors <= 5; ++n_vectors)
      for (const bool with_base : {false, true}) {
        expect_lanes_gram_matches(n_vectors, with_base, dtype, {1000});
        // Pieces that leave the sums between lanes, and blocks of 16 cut.
        expect_lanes_gram_matches(n_vectors, with_base, dtype, {5, 300, 37, 16, 3, 700});
      }
}

}  // namespace
}  // namespace weld::test
