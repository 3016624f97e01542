#include "model/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "model/random_model.h"

namespace weld {
namespace {

TEST(Rope, InverseFrequenciesFollowTheta) {
  ModelConfig c = test::tiny_config("LlamaForCausalLM");
  c.head_dim = 4;
  c.rope_theta = 10000;
  const std::vector<float> f = rope_inv_freq(c);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_NEAR(f[1], 0.01f, 1e-9);  // 10000^(-2/4)
}

TEST(Rope, RotatesHalvesAndInverts) {
  ModelConfig c = test::tiny_config("LlamaForCausalLM");
  c.head_dim = 4;
  const RopeTable t = rope_table(c, 3);
  // Position 2, pair (x0, x2) turns by 2 rad, pair (x1, x3) by 0.02 rad.
  float x[4] = {1, 2, 3, 4};
  rope_apply(t, 2, x, 1, false);
  EXPECT_NEAR(x[0], 1 * std::cos(2.0) - 3 * std::sin(2.0), 1e-6);
  EXPECT_NEAR(x[2], 3 * std::cos(2.0) + 1 * std::sin(2.0), 1e-6);
  EXPECT_NEAR(x[1], 2 * std::cos(0.02) - 4 * std::sin(0.02), 1e-6);
  EXPECT_NEAR(x[3], 4 * std::cos(0.02) + 2 * std::sin(0.02), 1e-6);
  rope_apply(t, 2, x, 1, true);
  EXPECT_NEAR(x[0], 1, 1e-6);
  EXPECT_NEAR(x[1], 2, 1e-6);
  EXPECT_NEAR(x[2], 3, 1e-6);
  EXPECT_NEAR(x[3], 4, 1e-6);
}

TEST(Rope, Llama3ScalingKeepsSmoothsAndDividesByWavelength) {
  ModelConfig c = test::tiny_config("LlamaForCausalLM");
  c.head_dim = 16;
  c.rope_theta = 100;
  const std::vector<float> plain = rope_inv_freq(c);
  c.llama3_scaling = Llama3RopeScaling{8.0, 1.0, 4.0, 64};
  const std::vector<float> scaled = rope_inv_freq(c);
  ASSERT_EQ(scaled.size(), 8u);
  EXPECT_EQ(scaled[0], plain[0]);  // wavelength 6.3 < 64 / 4
  EXPECT_EQ(scaled[1], plain[1]);  // 11.2
  // 19.9: smooth = (64 / 19.9 - 1) / 3 = 0.739; (1 - s) / 8 + s of the original.
  const double wavelen = 2 * std::numbers::pi / plain[2];
  const double smooth = (64 / wavelen - 1) / 3;
  EXPECT_NEAR(scaled[2], plain[2] * ((1 - smooth) / 8 + smooth), 1e-6 * plain[2]);
  EXPECT_NEAR(scaled[5], plain[5] / 8, 1e-7 * plain[5]);  // 112 > 64
  EXPECT_NEAR(scaled[7], plain[7] / 8, 1e-7 * plain[7]);
}

}  // namespace
}  // namespace weld
