//===- PlanArena.cpp - intermediates in one arena planned at compile time -===//
//
// After bufferization every intermediate is its own malloc, all freed at the
// end of the function, so a model holds every activation of the whole graph
// at once. Their sizes and lifetimes are known at compile time: this pass
// places them in one buffer and lets buffers whose lifetimes do not overlap
// share bytes.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITPLANARENA
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The arena's alignment and the least alignment of every buffer in it: a
/// cache line, what bufferization gives each alloc.
constexpr uint64_t kArenaAlignment = 64;

/// One buffer to place: its alloc, dealloc, size and lifetime in positions
/// of the entry block's operations (both ends included).
struct Buffer {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  uint64_t size = 0;
  uint64_t alignment = kArenaAlignment;
  unsigned begin = 0;
  unsigned end = 0;
  uint64_t offset = 0;

  bool livesWith(const Buffer &other) const {
    return begin <= other.end && other.begin <= end;
  }
};

/// The size in bytes of a static memref of int, float or index elements,
/// as the LLVM lowering lays it out (one element every getTypeSize bytes).
std::optional<uint64_t> getByteSize(MemRefType type, const DataLayout &layout) {
  Type element = type.getElementType();
  if (!isa<IntegerType, FloatType, IndexType>(element))
    return std::nullopt;
  return type.getNumElements() * layout.getTypeSize(element).getFixedValue();
}

/// Fills in `buffer`'s dealloc and lifetime from the uses of `alloc` and of
/// every value that may alias it. Fails (the buffer stays as it is) when
/// the buffer may escape the function, is freed anywhere else than by one
/// memref.dealloc of the block, or is used in a way the lifetime cannot
/// follow.
LogicalResult computeLifetime(Buffer &buffer, Block &block,
                              const DenseMap<Operation *, unsigned> &position) {
  memref::AllocOp alloc = buffer.alloc;
  buffer.begin = buffer.end = position.lookup(alloc);
  SmallVector<Value> worklist = {alloc.getResult()};
  DenseSet<Value> aliases = {alloc.getResult()};
  auto addAliases = [&](Operation *op) {
    for (Value result : op->getResults())
      if (isa<BaseMemRefType>(result.getType()) &&
          aliases.insert(result).second)
        worklist.push_back(result);
  };
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (auto dealloc = dyn_cast<memref::DeallocOp>(user)) {
        // One unconditional free of the buffer itself; a free of a view or
        // inside a region (the lowering of a conditional
        // bufferization.dealloc) means ownership this pass does not model.
        if (buffer.dealloc || value != alloc.getResult() ||
            dealloc->getBlock() != &block)
          return failure();
        buffer.dealloc = dealloc;
        continue;
      }
      if (isa<CallOpInterface, memref::ExtractAlignedPointerAsIndexOp>(user))
        return failure();
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top || top == block.getTerminator())
        return failure();
      // A result of the user, or of a region holding it (a value yielded
      // out of a loop or an scf.if), may be the buffer under another name.
      for (Operation *op = user; op != top->getParentOp();
           op = op->getParentOp())
        addAliases(op);
      buffer.end = std::max(buffer.end, position.lookup(top));
    }
  }
  if (!buffer.dealloc)
    return failure();
  return success();
}

/// Greedy placement: the largest buffer first, each at the lowest aligned
/// offset free of every placed buffer that lives at the same time. Returns
/// the arena's size.
uint64_t placeBuffers(MutableArrayRef<Buffer> buffers) {
  SmallVector<Buffer *> order =
      llvm::map_to_vector(buffers, [](Buffer &buffer) { return &buffer; });
  // Ties by position, so that the plan does not depend on the sort.
  llvm::stable_sort(order, [](const Buffer *a, const Buffer *b) {
    return a->size > b->size;
  });
  uint64_t peak = 0;
  SmallVector<const Buffer *> placed;
  for (Buffer *buffer : order) {
    SmallVector<const Buffer *> neighbours;
    for (const Buffer *other : placed)
      if (other->size != 0 && buffer->livesWith(*other))
        neighbours.push_back(other);
    llvm::sort(neighbours, [](const Buffer *a, const Buffer *b) {
      return a->offset < b->offset;
    });
    uint64_t offset = 0;
    for (const Buffer *other : neighbours) {
      if (offset + buffer->size <= other->offset)
        break;
      offset = std::max(offset, llvm::alignTo(other->offset + other->size,
                                              buffer->alignment));
    }
    buffer->offset = offset;
    peak = std::max(peak, offset + buffer->size);
    placed.push_back(buffer);
  }
  return peak;
}

struct OneBitPlanArenaPass
    : onebit::impl::OneBitPlanArenaBase<OneBitPlanArenaPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    Builder builder(&getContext());
    auto setPlan = [&](uint64_t peak, uint64_t count, uint64_t unshared) {
      func->setAttr(kArenaBytesAttrName, builder.getI64IntegerAttr(peak));
      func->setAttr(kArenaBuffersAttrName, builder.getI64IntegerAttr(count));
      func->setAttr(kArenaUnsharedBytesAttrName,
                    builder.getI64IntegerAttr(unshared));
    };
    if (func.isExternal())
      return;
    // With one block, the entry block's order is the execution order and
    // its terminator the one return.
    if (!func.getBody().hasOneBlock() ||
        !isa<func::ReturnOp>(func.getBody().front().getTerminator()))
      return setPlan(0, 0, 0);
    Block &block = func.getBody().front();

    DenseMap<Operation *, unsigned> position;
    for (auto [index, op] : llvm::enumerate(block))
      position[&op] = index;

    DataLayout layout = DataLayout::closest(func);
    SmallVector<Buffer> buffers;
    for (auto alloc : block.getOps<memref::AllocOp>()) {
      MemRefType type = alloc.getType();
      if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
          type.getMemorySpace() || !alloc.getSymbolOperands().empty())
        continue;
      std::optional<uint64_t> size = getByteSize(type, layout);
      if (!size)
        continue;
      Buffer buffer;
      buffer.alloc = alloc;
      buffer.size = *size;
      if (std::optional<uint64_t> alignment = alloc.getAlignment())
        buffer.alignment = std::max(buffer.alignment, *alignment);
      if (succeeded(computeLifetime(buffer, block, position)))
        buffers.push_back(buffer);
    }
    if (buffers.empty())
      return setPlan(0, 0, 0);

    uint64_t peak = placeBuffers(buffers);
    uint64_t unshared = 0;
    uint64_t arenaAlignment = kArenaAlignment;
    for (const Buffer &buffer : buffers) {
      unshared += buffer.size;
      arenaAlignment = std::max(arenaAlignment, buffer.alignment);
    }

    OpBuilder b = OpBuilder::atBlockBegin(&block);
    auto arenaType =
        MemRefType::get({static_cast<int64_t>(peak)}, b.getIntegerType(8));
    Value arena = memref::AllocOp::create(b, func.getLoc(), arenaType,
                                          b.getI64IntegerAttr(arenaAlignment));
    for (Buffer &buffer : buffers) {
      b.setInsertionPoint(buffer.alloc);
      Location loc = buffer.alloc.getLoc();
      Value shift = arith::ConstantIndexOp::create(b, loc, buffer.offset);
      Value view = memref::ViewOp::create(b, loc, buffer.alloc.getType(), arena,
                                          shift, ValueRange());
      buffer.alloc.replaceAllUsesWith(view);
      buffer.dealloc.erase();
      buffer.alloc.erase();
    }
    b.setInsertionPoint(block.getTerminator());
    memref::DeallocOp::create(b, func.getLoc(), arena);
    setPlan(peak, buffers.size(), unshared);
  }
};

} // namespace
