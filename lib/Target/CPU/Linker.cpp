//===- Linker.cpp - object + runtime -> model shared library --------------===//

#include "onebit/Target/CPU/CPUTarget.h"
#include "onebit/Runtime/onebit_runtime.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::onebit;

/// A runtime archive: beside the tools, in ../lib.
static std::string findRuntimeArchive(StringRef name) {
  static int anchor;
  std::string executable = llvm::sys::fs::getMainExecutable(nullptr, &anchor);
  SmallString<256> path(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(executable)));
  llvm::sys::path::append(path, "lib", name);
  return std::string(path);
}

LogicalResult mlir::onebit::linkCPUSharedLibrary(StringRef object,
                                                 StringRef output,
                                                 Location loc,
                                                 StringRef apiPrefix) {
  // The kernels run on all cores with LLVM's OpenMP runtime.
  SmallString<128> openmp(ONEBIT_OPENMP_LIBRARY_DIR);
  llvm::sys::path::append(openmp, "libomp.so");
  if (!llvm::sys::fs::exists(openmp))
    return emitError(loc) << "the OpenMP runtime " << openmp
                          << " is missing (Debian: apt-get install "
                             "libomp-22-dev)";
  return linkModelSharedLibrary(
      object, output, loc, "libonebit_runtime_cpu.a",
      {"-lm", "-L" ONEBIT_OPENMP_LIBRARY_DIR, "-lomp",
       "-Wl,-rpath," ONEBIT_OPENMP_LIBRARY_DIR},
      apiPrefix);
}

LogicalResult mlir::onebit::linkModelSharedLibrary(
    StringRef object, StringRef output, Location loc, StringRef runtimeArchive,
    ArrayRef<std::string> libraries, StringRef apiPrefix) {
  std::string runtime = findRuntimeArchive(runtimeArchive);
  if (!llvm::sys::fs::exists(runtime))
    return emitError(loc) << "the runtime is missing: " << runtime;
  // A C compiler driver knows where libc and libm live; lld links fast.
  llvm::ErrorOr<std::string> driver = llvm::sys::findProgramByName("clang");
  if (!driver)
    driver = llvm::sys::findProgramByName("cc");
  if (!driver)
    return emitError(loc) << "no C compiler driver (clang or cc) on PATH to "
                             "link the model library";

  SmallString<128> objectPath;
  int fd;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "onebit-model", "o", fd, objectPath))
    return emitError(loc) << "cannot create a temporary file: "
                          << ec.message();
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
  }
  llvm::FileRemover removeObject(objectPath);

  SmallVector<std::string> args = {*driver,
                                   "-shared",
                                   "-o",
                                   output.str(),
                                   std::string(objectPath),
                                   "-Wl,--whole-archive",
                                   runtime,
                                   "-Wl,--no-whole-archive",
                                   "-Wl,-z,noexecstack",
                                   "-Wl,-Bsymbolic"};
  if (!apiPrefix.empty()) {
#define ONEBIT_ALIAS(prefix, name)                                             \
  args.push_back(("-Wl,--defsym=" + prefix + "_" #name "=onebit_" #name).str());
    ONEBIT_API_NAMES(ONEBIT_ALIAS, apiPrefix)
#undef ONEBIT_ALIAS
  }
  args.append(libraries.begin(), libraries.end());
  if (llvm::sys::findProgramByName("ld.lld") ||
      llvm::sys::findProgramByName("ld.lld-22"))
    args.push_back("-fuse-ld=lld");
  SmallVector<StringRef> argRefs(args.begin(), args.end());
  std::string error;
  SmallString<128> logPath;
  llvm::sys::fs::createTemporaryFile("onebit-link", "log", logPath);
  llvm::FileRemover removeLog(logPath);
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(logPath),
                                          StringRef(logPath)};
  int status = llvm::sys::ExecuteAndWait(*driver, argRefs, std::nullopt,
                                         redirects, 0, 0, &error);
  if (status != 0) {
    auto log = llvm::MemoryBuffer::getFile(logPath);
    return emitError(loc) << "linking " << output << " failed"
                          << (error.empty() ? "" : ": " + error) << "\n"
                          << (log ? (*log)->getBuffer() : "");
  }
  return success();
}
