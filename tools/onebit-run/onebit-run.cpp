//===- onebit-run.cpp - run a compiled onebit model on .npy files ---------===//
//
// onebit-run model.so --input x=x.npy [--input ...] --output-dir out/
//            [--benchmark N]
//
// Loads the model library with dlopen and drives it through the C API of
// include/onebit/Runtime/onebit_runtime.h, as any program would.
//
//===----------------------------------------------------------------------===//

#include "LibraryFile.h"
#include "Npy.h"
#include "onebit/Runtime/onebit_runtime.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <dlfcn.h>
#include <map>

using namespace onebit_run;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory category("onebit-run options");
cl::opt<std::string> libraryPath(cl::Positional, cl::desc("<model.so>"),
                                 cl::Required, cl::cat(category));
cl::list<std::string> inputs("input",
                             cl::desc("An input: NAME=FILE.npy (repeatable)"),
                             cl::value_desc("name=file.npy"),
                             cl::cat(category));
cl::opt<std::string> outputDir(
    "output-dir", cl::desc("Write each output to DIR/NAME.npy"),
    cl::value_desc("dir"), cl::cat(category));
cl::opt<unsigned> benchmark(
    "benchmark",
    cl::desc("Run N timed iterations after a warm-up of 200 ms and print "
             "the median and minimum time per run in microseconds (host "
             "clock, one synchronised run at a time), and forward_us: the "
             "mean time of N forwards queued back to back (device events on "
             "CUDA)"),
    cl::value_desc("N"), cl::init(0), cl::cat(category));
cl::opt<std::string> device("device",
                            cl::desc("Where to run: cpu (the default) or cuda; "
                                     "must match the library's -target"),
                            cl::init("cpu"), cl::cat(category));

/// The C API, resolved from the model library.
struct Api {
#define ONEBIT_API(name) decltype(&::name) name = nullptr;
  ONEBIT_API(onebit_model_open)
  ONEBIT_API(onebit_model_close)
  ONEBIT_API(onebit_model_last_error)
  ONEBIT_API(onebit_model_num_inputs)
  ONEBIT_API(onebit_model_num_outputs)
  ONEBIT_API(onebit_model_input_info)
  ONEBIT_API(onebit_model_output_info)
  ONEBIT_API(onebit_model_run)
  ONEBIT_API(onebit_model_time)
  ONEBIT_API(onebit_dtype_size)
#undef ONEBIT_API

  bool load(void *library, std::string &missing) {
#define ONEBIT_LOAD(name)                                                      \
  if (!(name = reinterpret_cast<decltype(name)>(dlsym(library, #name)))) {     \
    missing = #name;                                                           \
    return false;                                                              \
  }
    ONEBIT_LOAD(onebit_model_open)
    ONEBIT_LOAD(onebit_model_close)
    ONEBIT_LOAD(onebit_model_last_error)
    ONEBIT_LOAD(onebit_model_num_inputs)
    ONEBIT_LOAD(onebit_model_num_outputs)
    ONEBIT_LOAD(onebit_model_input_info)
    ONEBIT_LOAD(onebit_model_output_info)
    ONEBIT_LOAD(onebit_model_run)
    ONEBIT_LOAD(onebit_model_time)
    ONEBIT_LOAD(onebit_dtype_size)
#undef ONEBIT_LOAD
    return true;
  }
};

int fail(const llvm::Twine &message) {
  llvm::errs() << "onebit-run: " << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "onebit-run: run a model library compiled by "
                              "onebit-compile on .npy inputs\n");
  if (device != "cpu" && device != "cuda")
    return fail("--device " + device + " is not supported (cpu or cuda)");

  std::string path = llvm::sys::path::is_absolute(libraryPath)
                         ? std::string(libraryPath)
                         : "./" + libraryPath;
  std::string error;
  if (!checkLibraryFile(path, error))
    return fail("cannot load " + libraryPath + ": " + error);
  void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return fail(llvm::Twine("cannot load ") + libraryPath + ": " + dlerror());
  Api api;
  std::string missing;
  if (!api.load(library, missing))
    return fail(libraryPath + " is not a onebit model library (no " + missing +
                ")");
  // Libraries say what they were compiled for (older ones: the CPU).
  using DeviceFn = const char *(*)();
  auto deviceOf = reinterpret_cast<DeviceFn>(dlsym(library, "onebit_model_device"));
  std::string compiledFor = deviceOf ? deviceOf() : "cpu";
  if (compiledFor != device)
    return fail(libraryPath + " was compiled for " + compiledFor +
                " (onebit-compile -target=" + compiledFor + "); run it with "
                "--device " + compiledFor);
  onebit_model *model = api.onebit_model_open();
  if (!model)
    return fail("out of memory opening the model");
  if (*api.onebit_model_last_error(model))
    return fail(api.onebit_model_last_error(model));

  std::map<std::string, std::string> files;
  for (const std::string &spec : inputs) {
    size_t eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0)
      return fail("--input expects NAME=FILE.npy, got '" + spec + "'");
    files[spec.substr(0, eq)] = spec.substr(eq + 1);
  }

  int32_t numInputs = api.onebit_model_num_inputs(model);
  int32_t numOutputs = api.onebit_model_num_outputs(model);
  std::vector<NpyArray> inputArrays(numInputs), outputArrays(numOutputs);
  std::vector<onebit_tensor> inputTensors(numInputs), outputTensors(numOutputs);
  std::vector<std::string> outputNames(numOutputs);
  for (int32_t i = 0; i < numInputs; ++i) {
    onebit_tensor_info info;
    api.onebit_model_input_info(model, i, &info);
    auto file = files.find(info.name);
    if (file == files.end())
      return fail(llvm::Twine("missing --input for '") + info.name + "'");
    std::string error;
    if (!readNpy(file->second, inputArrays[i], error))
      return fail(error);
    files.erase(file);
    inputTensors[i] = {inputArrays[i].data.data(), inputArrays[i].dtype,
                       int32_t(inputArrays[i].shape.size()),
                       inputArrays[i].shape.data()};
  }
  if (!files.empty())
    return fail("the model has no input '" + files.begin()->first + "'");
  for (int32_t i = 0; i < numOutputs; ++i) {
    onebit_tensor_info info;
    api.onebit_model_output_info(model, i, &info);
    NpyArray &array = outputArrays[i];
    array.dtype = info.dtype;
    array.shape.assign(info.shape, info.shape + info.rank);
    int64_t count = 1;
    for (int64_t d : array.shape)
      count *= d;
    array.data.resize(count * api.onebit_dtype_size(info.dtype));
    outputTensors[i] = {array.data.data(), array.dtype, info.rank,
                        array.shape.data()};
    outputNames[i] = info.name;
  }

  auto run = [&] {
    return api.onebit_model_run(model, inputTensors.data(), numInputs,
                                outputTensors.data(), numOutputs);
  };
  if (run() != ONEBIT_OK)
    return fail(api.onebit_model_last_error(model));

  if (benchmark > 0) {
    // Warm up as onebit_model_time does (ONEBIT_WARM_UP_MS): the OS spreads
    // OpenMP's threads over the cores only after a while.
    auto warmEnd = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(ONEBIT_WARM_UP_MS);
    while (std::chrono::steady_clock::now() < warmEnd)
      if (run() != ONEBIT_OK)
        return fail(api.onebit_model_last_error(model));
    std::vector<double> times;
    for (unsigned i = 0; i < benchmark; ++i) {
      auto start = std::chrono::steady_clock::now();
      run();
      auto end = std::chrono::steady_clock::now();
      times.push_back(
          std::chrono::duration<double, std::micro>(end - start).count());
    }
    std::sort(times.begin(), times.end());
    double forward = 0;
    if (api.onebit_model_time(model, inputTensors.data(), numInputs,
                              outputTensors.data(), numOutputs, benchmark,
                              &forward) != ONEBIT_OK)
      return fail(api.onebit_model_last_error(model));
    llvm::outs() << "runs: " << benchmark << "\nmedian_us: "
                 << llvm::format("%.2f", times[times.size() / 2])
                 << "\nmin_us: " << llvm::format("%.2f", times.front())
                 << "\nforward_us: " << llvm::format("%.2f", forward)
                 << "\n";
  }

  if (!outputDir.empty()) {
    llvm::sys::fs::create_directories(outputDir);
    for (int32_t i = 0; i < numOutputs; ++i) {
      llvm::SmallString<256> file(outputDir);
      llvm::sys::path::append(file, outputNames[i] + ".npy");
      std::string error;
      if (!writeNpy(std::string(file), outputArrays[i], error))
        return fail(error);
    }
  }
  api.onebit_model_close(model);
  return 0;
}
