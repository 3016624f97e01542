#include <gtest/gtest.h>

#include "plan/layer_names.h"
#include "util/error.h"

namespace weld {
namespace {

TEST(LayerNames, LayerIsTheFirstAllDigitComponent) {
  const TensorName n = parse_tensor_name("model.layers.12.mlp.experts.3.w1.weight");
  EXPECT_EQ(n.role, TensorRole::kLayer);
  EXPECT_EQ(n.container, "model.layers");
  EXPECT_EQ(n.layer, 12u);
  EXPECT_EQ(n.suffix, "mlp.experts.3.w1.weight");
  EXPECT_EQ(layer_tensor_name(n.container, 7, n.suffix), "model.layers.7.mlp.experts.3.w1.weight");
}

TEST(LayerNames, EmbeddingsArePreOthersArePost) {
  EXPECT_EQ(parse_tensor_name("model.embed_tokens.weight").role, TensorRole::kPreLayer);
  EXPECT_EQ(parse_tensor_name("transformer.wte.weight").role, TensorRole::kPreLayer);
  EXPECT_EQ(parse_tensor_name("model.norm.weight").role, TensorRole::kPostLayer);
  EXPECT_EQ(parse_tensor_name("lm_head.weight").role, TensorRole::kPostLayer);
}

TEST(LayerNames, StructureCountsLayersAndSuffixes) {
  const LayerStructure s = layer_structure({"model.embed_tokens.weight", "model.layers.0.a.weight",
                                            "model.layers.1.a.weight", "model.layers.1.b.weight",
                                            "model.norm.weight", "lm_head.weight"});
  EXPECT_EQ(s.container, "model.layers");
  EXPECT_EQ(s.n_layers, 2u);
  EXPECT_EQ(s.suffixes, (std::vector<std::string>{"a.weight", "b.weight"}));
  EXPECT_EQ(s.pre_names, (std::vector<std::string>{"model.embed_tokens.weight"}));
  EXPECT_EQ(s.post_names, (std::vector<std::string>{"model.norm.weight", "lm_head.weight"}));
}

TEST(LayerNames, TwoContainersAreRefused) {
  try {
    layer_structure({"model.layers.0.a", "vision.blocks.0.a"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "tensors use two layer containers, 'model.layers' and 'vision.blocks'; weld handles one");
  }
}

}  // namespace
}  // namespace weld
