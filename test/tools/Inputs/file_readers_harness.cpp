//===- file_readers_harness.cpp - onebit-run's file readers, sanitized ----===//
//
// Built by sanitized-file-readers.test with AddressSanitizer and
// UndefinedBehaviorSanitizer around onebit-run's .npy reader and library
// check: reads each file named on the command line as what its extension
// says and prints one line per file ("ok" or the error). Any out-of-bounds
// access or undefined behaviour aborts it.
//
//===----------------------------------------------------------------------===//

#include "LibraryFile.h"
#include "Npy.h"

#include <cstdio>
#include <string>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    std::string path = argv[i], error;
    bool ok;
    if (path.size() > 3 && path.compare(path.size() - 3, 3, ".so") == 0) {
      ok = onebit_run::checkLibraryFile(path, error);
    } else {
      onebit_run::NpyArray array;
      ok = onebit_run::readNpy(path, array, error);
    }
    std::printf("%s: %s\n", path.c_str(), ok ? "ok" : error.c_str());
  }
  return 0;
}
