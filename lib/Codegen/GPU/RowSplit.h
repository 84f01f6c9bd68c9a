//===- RowSplit.h - a row shared by several blocks --------------*- C++ -*-===//
//
// onebit-gpu-row-reductions' split rows (RowSplit): at batch 1 a norm's row
// is shared by several blocks, each of which reduces all of it from
// registers and runs the tail for its own slots.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_CODEGEN_GPU_ROWSPLIT_H
#define ONEBIT_LIB_CODEGEN_GPU_ROWSPLIT_H

#include "RowResidentValues.h"

namespace mlir::onebit::row_steps {

/// How the blocks of a row share it. With `blocks` > 1, block `index` of
/// a row owns slot s (elements s * B + t of B threads) where s % blocks ==
/// index, in every step. Each block runs the reductions, and the steps
/// they read, over the whole row from registers, and stores only the
/// slots it owns; the tail (the steps whose results no later step of the
/// chain touches) it runs for its own slots alone, their inputs from
/// outside the chain loaded before the chain's first step. At batch 1 the
/// tail of a norm (its weights and the ops after it) is most of a row's
/// loads, which one block otherwise issues on one SM after the last
/// reduction.
struct RowSplit {
  int64_t blocks = 1;
  Value index; // the block's among its row's
};

/// Whether this block stores slot `slot`: it owns it.
Value ownsSlot(ImplicitLocOpBuilder &b, const RowSplit &split, int64_t slot);

/// One slot of a split row's tail step in this block: its slot of the
/// row (s), loop point, whether it is real, and the inputs from outside
/// the chain, loaded before the chain's first step.
struct TailSlot {
  Value slot;
  SmallVector<Value> point;
  Value real;
  DenseMap<OpOperand *, Value> inputs;
};

/// The slots of tail step `step` that this block owns, their inputs that
/// the chain does not write (`written`, by alias root) loaded now.
SmallVector<TailSlot> loadTailInputs(ImplicitLocOpBuilder &b,
                                     const RowStep &step, ArrayRef<Value> row,
                                     Value thread, int64_t blockSize,
                                     const RowSplit &split,
                                     const DenseSet<Value> &written);

/// Loads now, into `resident`, every slot of the inputs of `step` that
/// the chain does not write (`written`, by alias root): a split
/// row's blocks then wait for them once, during the reductions before the
/// step.
void preloadInputs(ImplicitLocOpBuilder &b, const RowStep &step,
                   ArrayRef<Value> row, Value thread, int64_t blockSize,
                   const DenseSet<Value> &written, ResidentValues &resident);

/// Tail step `step` at this block's slots (loadTailInputs): inputs the
/// chain wrote come from the registers of the steps before.
void emitTail(ImplicitLocOpBuilder &b, const RowStep &step,
              ArrayRef<TailSlot> slots, ResidentValues &resident);

/// Whether no step of `chain` after step `index` touches its output (or
/// any view of the same allocation).
bool isTail(ArrayRef<RowStep> chain, size_t index);

/// Whether each thread's elements of every step of `chain` fit in
/// registers: the steps then run without loops and pass values on in
/// registers, and a row goes through memory once on its way in and once
/// out, not at every step.
bool fitsRegisters(ArrayRef<RowStep> chain, int64_t blockSize);

/// Blocks per row worth splitting `chains` over (RowSplit): up to
/// `maxBlocks`, no more than a tail step has slots, and at most `maxGrid`
/// blocks in all. 1 where a chain does not fit registers or has no tail
/// of several slots.
int64_t getBlocksPerRow(ArrayRef<SmallVector<RowStep>> chains, int64_t rows,
                        int64_t blockSize, int64_t maxBlocks, int64_t maxGrid);

} // namespace mlir::onebit::row_steps

#endif // ONEBIT_LIB_CODEGEN_GPU_ROWSPLIT_H
