#include "output_file.h"

#include "staged_outputs.h"

namespace dualpipe::apps {

void write_output_file(const std::string& path, const std::string& content) {
  StagedOutputs output;
  output.add(path, content);
  output.commit();
}

}  // namespace dualpipe::apps
