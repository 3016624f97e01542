// End-to-end: methods that need whole-tensor statistics, streamed in tiles, write exactly the
// bytes of the simple path (--whole-tensors), on one thread and on two, with the inputs
// copied a tile at a time (the default) or read from the maps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/tiny_model.h"

namespace weld::test {
namespace {

struct Case {
  const char* method;
  const char* parameters;
  // slerp takes the base and exactly one other; the fused family kernels are compiled apart
  // for one, two and three models, and for any number.
  int fine_tunes = 2;
};

// How a failing case and the test list name it (without this, as the struct's raw bytes).
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.method << " " << c.parameters << " with " << c.fine_tunes << " fine-tune(s)";
}

class StreamedMethodsCli : public testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    // The embeddings (8192 x 256) span 32 tiles, two chunks and two segments of the L1 pass,
    // so two workers share their merge and (the second waiting for the first's passes) their
    // L1 pass;
    // bf16 task vectors repeat magnitudes, so top-k thresholds fall inside runs of ties.
    ASSERT_EQ(run_weld("synth -q " + (*dir_ / "m") + " --layers 1 --vocab 8192 --hidden 256 "
                       "--intermediate 96 --fine-tunes 4").status, 0);
  }
  static void TearDownTestSuite() { delete dir_; }

  std::string merge(const std::string& out, const std::string& options) {
    std::string yaml = std::string("merge_method: ") + GetParam().method + "\nbase_model: " +
                       (*dir_ / "m/base") + "\nparameters: " + GetParam().parameters + "\nmodels:\n";
    for (int i = 1; i <= GetParam().fine_tunes; ++i) yaml += "  - model: " + (*dir_ / ("m/ft-" + std::to_string(i))) + "\n";
    write_file(*dir_ / "merge.yml", yaml);
    const RunResult r = run_weld("merge -q --force " + (*dir_ / "merge.yml") + " " + (*dir_ / out) + " " + options);
    EXPECT_EQ(r.status, 0) << r.err;
    return read_file(*dir_ / (out + "/model.safetensors"));
  }
  static TempDir* dir_;
};

TempDir* StreamedMethodsCli::dir_ = nullptr;

TEST_P(StreamedMethodsCli, TilesOnAnyThreadCountWriteTheBytesOfTheWholeTensorPath) {
  const std::string whole = merge("whole", "--whole-tensors --threads 1");
  EXPECT_EQ(merge("one", "--threads 1"), whole);
  EXPECT_EQ(merge("two", "--threads 2"), whole);
  EXPECT_EQ(merge("mapped", "--threads 2 --read mmap"), whole);
  EXPECT_EQ(merge("direct", "--threads 2 --write direct"), whole);
}

constexpr const char* kFamily = "{weight: 0.7, density: 0.4}";
INSTANTIATE_TEST_SUITE_P(Methods, StreamedMethodsCli,
                         testing::Values(Case{"ties", kFamily}, Case{"dare_ties", kFamily},
                                         Case{"dare_linear", kFamily}, Case{"breadcrumbs", kFamily},
                                         Case{"breadcrumbs_ties", "{weight: 0.7, density: 0.4, gamma: 0.05}"},
                                         Case{"della", kFamily}, Case{"della_linear", kFamily},
                                         Case{"ties", kFamily, 1}, Case{"ties", kFamily, 3}, Case{"ties", kFamily, 4},
                                         Case{"dare_linear", kFamily, 1}, Case{"dare_linear", kFamily, 3},
                                         Case{"dare_linear", kFamily, 4}, Case{"della", kFamily, 3},
                                         Case{"ties", "{weight: 0.7, density: 0.4, rescale: true}"},
                                         Case{"dare_linear", "{weight: 0.7, density: 0.4, rescale: false}"},
                                         Case{"dare_ties", "{weight: 0.7, density: 0.4, rescale_by_probability: true}"},
                                         Case{"della", "{weight: 0.7, density: 0.4, rescale: false}"},
                                         Case{"slerp", "{t: 0.3}", 1}, Case{"model_stock", "{}"},
                                         Case{"model_stock", "{filter_wise: true}"},
                                         Case{"sce", "{select_topk: 0.5}"}, Case{"sce", "{}"},
                                         Case{"ramplus_tl", "{}"}, Case{"arcee_fusion", "{}", 1},
                                         Case{"nuslerp", "{weight: 0.7}"},
                                         Case{"nuslerp", "{weight: 0.7, nuslerp_flatten: false}"},
                                         Case{"nuslerp", "{weight: 0.7, nuslerp_flatten: false, nuslerp_row_wise: true}"}),
                         [](const testing::TestParamInfo<Case>& param) {
                           return std::string(param.param.method) + "_" + std::to_string(param.index);
                         });

}  // namespace
}  // namespace weld::test
