// scoria: the command-line client. Everything lives in src/cli (cli/app.h); this only hands
// it the real process environment.
#include <string>
#include <vector>

#include "cli/app.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return scoria::cli::RunCli(args, scoria::cli::SystemEnvironment());
}
