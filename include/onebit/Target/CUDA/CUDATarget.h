//===- CUDATarget.h - compiling a model to a CUDA shared library -*- C++ -*-===//

#ifndef ONEBIT_TARGET_CUDA_CUDATARGET_H
#define ONEBIT_TARGET_CUDA_CUDATARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir::onebit {

/// Options of `onebit-cuda-pipeline` (and of onebit-compile -target=cuda).
struct CUDAPipelineOptions : PassPipelineOptions<CUDAPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture: sm_90 (default), "
                                          "sm_89 or sm_80"),
                           llvm::cl::init("sm_90")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("What the gpu.binary holds: isa (PTX, JIT-compiled by "
                     "the driver; default), bin (cubin, needs ptxas) or "
                     "fatbin (needs ptxas and fatbinary)"),
      llvm::cl::init("isa")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit root (libdevice, ptxas); default: "
                     "/usr/local/cuda if it exists"),
      llvm::cl::init("")};
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("Threads per block of the "
                                           "elementwise and reduction kernels"),
                            llvm::cl::init(256)};
  Option<int64_t> gemvRowsPerStep{
      *this, "gemv-rows-per-step",
      llvm::cl::desc("Output rows each row group of the decode kernel loads "
                     "per step (onebit-gpu-select-schedules)"),
      llvm::cl::init(4)};
  Option<int64_t> gemvMaxGridSize{
      *this, "gemv-max-grid-size",
      llvm::cl::desc("Most blocks of a decode kernel "
                     "(onebit-gpu-select-schedules)"),
      llvm::cl::init(264)};
  Option<int64_t> mmaMinRows{
      *this, "mma-min-rows",
      llvm::cl::desc("Fewest input rows of an f16 1-bit product for the "
                     "tensor-core kernel (onebit-gpu-select-schedules)"),
      llvm::cl::init(1)};
  Option<int64_t> mmaRowTiles{
      *this, "mma-row-tiles",
      llvm::cl::desc("Tiles of 16 output rows per warp of the tensor-core "
                     "kernel (0: chosen by the input rows)"),
      llvm::cl::init(0)};
  Option<int64_t> mmaMinGridSize{
      *this, "mma-min-grid-size",
      llvm::cl::desc("Fewest blocks of the tensor-core kernel before its "
                     "warps split K"),
      llvm::cl::init(264)};
  Option<int64_t> mmaBitClasses{
      *this, "mma-bit-classes",
      llvm::cl::desc("Bit classes of the tensor-core kernel's one-tile "
                     "schedule (16, 8, 4 or 2)"),
      llvm::cl::init(16)};
  Option<int64_t> mmaLoadsAhead{
      *this, "mma-loads-ahead",
      llvm::cl::desc("Steps of sign words in flight per lane of the "
                     "tensor-core kernel (1..8)"),
      llvm::cl::init(2)};
  Option<bool> mergeLaunches{
      *this, "merge-launches",
      llvm::cl::desc("Adjacent independent kernels of one name in one launch "
                     "(onebit-gpu-merge-launches)"),
      llvm::cl::init(true)};
  Option<bool> mmaInt8Activations{
      *this, "mma-int8-activations",
      llvm::cl::desc("Tensor-core kernel with up to 2 input rows and no K split: "
                     "activations as int8 digits on the s8 tensor cores"),
      llvm::cl::init(true)};
  Option<bool> mmaDirectFragments{
      *this, "mma-direct-fragments",
      llvm::cl::desc("Tensor-core kernel with 9 to 16 input rows: each lane "
                     "loads its activations from global memory instead of "
                     "the block staging them in workgroup memory (false: "
                     "staged)"),
      llvm::cl::init(true)};
  Option<int64_t> attentionWarps{
      *this, "attention-warps",
      llvm::cl::desc("Warps per block of the decoding attention kernel "
                     "(1..8; onebit-gpu-select-schedules)"),
      llvm::cl::init(2)};
  Option<int64_t> attentionBlocks{
      *this, "attention-blocks",
      llvm::cl::desc("Blocks the decoding attention kernel aims for: splits "
                     "of the cache = blocks / heads (1024 at most per head)"),
      llvm::cl::init(1024)};
  Option<int64_t> attentionRowsInFlight{
      *this, "attention-rows-in-flight",
      llvm::cl::desc("Cache rows each lane of the decoding attention kernel "
                     "loads at once (1..8)"),
      llvm::cl::init(4)};
  Option<bool> scheduleReport{
      *this, "schedule-report",
      llvm::cl::desc("Report the kernel schedule of each 1-bit product and "
                     "attention (remarks on stderr; "
                     "onebit-gpu-select-schedules)"),
      llvm::cl::init(false)};
  Option<bool> dependentLaunch{
      *this, "dependent-launch",
      llvm::cl::desc("Each kernel launches before the one before it has "
                     "ended and waits for it (onebit-cuda-dependent-launch; "
                     "sm_90 only, ignored for other chips)"),
      llvm::cl::init(true)};

  /// Calls `visit` with each option that onebit-compile declares as a flag
  /// of its own, under the same name, description and default: all but
  /// chip, format and toolkit, which it derives from -arch and --ptxas.
  template <typename Visitor>
  void forEachFlag(Visitor &&visit) {
    visit(blockSize);
    visit(gemvRowsPerStep);
    visit(gemvMaxGridSize);
    visit(mmaMinRows);
    visit(mmaRowTiles);
    visit(mmaMinGridSize);
    visit(mmaBitClasses);
    visit(mmaLoadsAhead);
    visit(mergeLaunches);
    visit(mmaInt8Activations);
    visit(mmaDirectFragments);
    visit(scheduleReport);
    visit(attentionWarps);
    visit(attentionBlocks);
    visit(attentionRowsInFlight);
    visit(dependentLaunch);
  }

  /// What is wrong with the kernels' options (the first out of the range
  /// their passes take, named as a flag); empty if nothing.
  std::string verify() const;
};

/// The GPU architectures -target=cuda accepts.
bool isSupportedCUDAChip(StringRef chip);

/// From fused IR (onebit + tosa on tensors) to the LLVM dialect with one
/// gpu.binary per kernel module; registered as `onebit-cuda-pipeline`.
void buildCUDALoweringPipeline(OpPassManager &pm,
                               const CUDAPipelineOptions &options);
void registerCUDAPipeline();

/// The PTX of every gpu.binary of `module` lowered with format=isa
/// (for --emit=ptx).
FailureOr<std::string> getCUDAAssembly(ModuleOp module);

/// Links `object` (the host code, kernels embedded) with the CUDA runtime
/// into the shared library `output`; `apiPrefix` as for
/// linkCPUSharedLibrary.
LogicalResult linkCUDASharedLibrary(StringRef object, StringRef output,
                                    Location loc, StringRef apiPrefix = "");

} // namespace mlir::onebit

#endif // ONEBIT_TARGET_CUDA_CUDATARGET_H
