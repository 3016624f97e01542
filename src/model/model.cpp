#include "model/model.h"

#include "io/model_dir.h"
#include "util/error.h"

namespace weld {

Model load_model(const std::string& path, unsigned threads) {
  const std::unique_ptr<ModelDir> dir = ModelDir::open(path);
  Model model;
  model.config = with_context(fmt::format("model '{}'", path),
                              [&] { return parse_model_config(dir->config()); });
  model.weights = load_weights(*dir, model.config, threads);
  return model;
}

}  // namespace weld
