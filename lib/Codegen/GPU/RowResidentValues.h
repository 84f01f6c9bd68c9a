//===- RowResidentValues.h - a row's values in registers --------*- C++ -*-===//
//
// onebit-gpu-row-reductions' resident rows: the elements of a row each
// thread owns, and the values that earlier steps of a chain loaded or
// stored for them, which later steps take from registers.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_CODEGEN_GPU_ROWRESIDENTVALUES_H
#define ONEBIT_LIB_CODEGEN_GPU_ROWRESIDENTVALUES_H

#include "KernelBuilding.h"
#include "RowSteps.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::onebit::row_steps {

/// The `count` elements a thread takes at `base` (of `elements`): indices
/// base + u * blockSize + thread, clamped to the last element so that
/// every load is in bounds, and whether each is real.
SmallVector<std::pair<Value, Value>>
getUnrolledElements(ImplicitLocOpBuilder &b, Value base, Value thread,
                    int64_t blockSize, int64_t elements, int64_t count);

/// Most elements of a row each thread holds in registers across the steps
/// of a chain (resident rows, in the pass's description).
constexpr int64_t kMaxResidentElements = 16;

/// Per thread, the values that earlier steps of a chain loaded or stored
/// for the elements the thread owns, by buffer root: later steps take them
/// from registers instead of loading them again. A thread owns elements
/// slot * blockSize + thread of every row (clamped to the last, as the
/// steps evaluate them), whatever the step; a row of one element is slot 0
/// in every thread.
class ResidentValues {
public:
  /// What slot `slot` of `step` reads from `buffer` through `map` at
  /// `point`: a resident value, or a load that later steps may take
  /// (commitLoads). Null where the access is not one of a row's elements.
  Value read(ImplicitLocOpBuilder &b, const RowStep &step, Value buffer,
             AffineMap map, ArrayRef<Value> point, int64_t slot) {
    RowAccess access = classify(step, buffer, map);
    if (access == RowAccess::Other)
      return Value();
    int64_t elements =
        access == RowAccess::RowScalar ? 1 : getRowElements(step);
    Value root = getBufferRoot(buffer);
    if (Value value = lookup(rows, root, elements, slot))
      return value;
    if (Value value = lookup(loaded, root, elements, slot))
      return value;
    noteMemoryRead(buffer);
    Value value =
        memref::LoadOp::create(b, buffer, getMapIndices(b, map, point));
    auto [it, inserted] = loaded.try_emplace(root, Row{elements, {}});
    if (it->second.elements == elements &&
        static_cast<int64_t>(it->second.slots.size()) == slot)
      it->second.slots.push_back(value);
    return value;
  }

  /// What slot `slot` (known at run time) of `step` reads from `buffer`
  /// through `map`: a select among the resident values of every slot of
  /// the step's row. Null unless all of them are resident.
  Value readAt(ImplicitLocOpBuilder &b, const RowStep &step, Value buffer,
               AffineMap map, Value slot) {
    RowAccess access = classify(step, buffer, map);
    if (access == RowAccess::Other)
      return Value();
    Value root = getBufferRoot(buffer);
    if (access == RowAccess::RowScalar)
      return lookup(rows, root, 1, 0);
    int64_t elements = getRowElements(step);
    Value result;
    for (int64_t s = 0, e = llvm::divideCeil(elements, rowBlockSize); s < e;
         ++s) {
      Value value = lookup(rows, root, elements, s);
      if (!value)
        return Value();
      result = s == 0 ? value
                      : arith::SelectOp::create(
                            b,
                            arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                                  slot, constIndex(b, s)),
                            value, result);
    }
    return result;
  }

  /// Makes the rows that the last step loaded whole resident.
  void commitLoads(const RowStep &step) {
    int64_t slots = llvm::divideCeil(getRowElements(step), rowBlockSize);
    for (auto &[root, row] : loaded)
      if (row.elements == 1 || static_cast<int64_t>(row.slots.size()) == slots)
        rows[root] = row;
    loaded.clear();
  }

  /// Records what `step` stored into `buffer` (written through `map`):
  /// `slots`, or nothing known where it is not one value per owned
  /// element.
  void record(const RowStep &step, Value buffer, AffineMap map,
              ArrayRef<Value> slots) {
    Value root = getBufferRoot(buffer);
    rows.erase(root);
    RowAccess access = classify(step, buffer, map);
    int64_t elements = getRowElements(step);
    // An elementwise step over several elements into one per row races.
    if (slots.empty() || access == RowAccess::Other ||
        (access == RowAccess::RowScalar && elements != 1 && !step.reduction))
      return;
    rows[root] = {access == RowAccess::RowScalar ? 1 : elements,
                  SmallVector<Value>(slots)};
  }

  /// Forgets `buffer`'s values.
  void invalidate(Value buffer) { rows.erase(getBufferRoot(buffer)); }

  /// Buffers (by alias root) whose values must come from registers:
  /// a split row's blocks each store only their part of them (RowSplit).
  void setHeldOnly(DenseSet<Value> roots) { heldOnly = std::move(roots); }

  /// Notes that a step reads `buffer` from memory.
  void noteMemoryRead(Value buffer) {
    if (heldOnly.contains(getAliasRoot(buffer)))
      readHeldOnly = true;
  }

  /// Whether a step read a buffer of setHeldOnly from memory.
  bool readHeldOnlyFromMemory() const { return readHeldOnly; }

  explicit ResidentValues(int64_t blockSize) : rowBlockSize(blockSize) {}

private:
  struct Row {
    int64_t elements;
    SmallVector<Value> slots;
  };

  /// The value of slot `slot` of a row of `elements` of `root`, if held.
  static Value lookup(const DenseMap<Value, Row> &held, Value root,
                      int64_t elements, int64_t slot) {
    auto it = held.find(root);
    if (it == held.end() || it->second.elements != elements)
      return Value();
    int64_t index = elements == 1 ? 0 : slot;
    return index < static_cast<int64_t>(it->second.slots.size())
               ? it->second.slots[index]
               : Value();
  }

  int64_t rowBlockSize;
  DenseMap<Value, Row> rows;
  DenseMap<Value, Row> loaded; // by the step being emitted
  DenseSet<Value> heldOnly;
  bool readHeldOnly = false;
};

} // namespace mlir::onebit::row_steps

#endif // ONEBIT_LIB_CODEGEN_GPU_ROWRESIDENTVALUES_H
