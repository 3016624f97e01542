// The files written beside the tensors (whose shards and index io/sharded_writer.h writes),
// as Hugging Face and mergekit lay them out: config.json (torch_dtype and layer count
// updated), tokenizer files and generation_config.json copied, the config as
// mergekit_config.yml, and a model card README.md saying how the model was made.
#pragma once

#include <string_view>

#include "io/output_dir.h"
#include "plan/plan.h"

namespace weld {

struct ProvenanceInfo {
  std::string_view weld_version;
  std::uint64_t seed;
};

void write_output_files(const MergePlan& plan, const OutputDir& out, const ProvenanceInfo& info);

}  // namespace weld
