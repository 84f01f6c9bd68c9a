//===- OutlineLoopNests.cpp - one private function per loop nest ----------===//
//
// A decoder's layers lower to the same loop nests on different weights, all
// in one function: the code generator compiles every layer again, and its
// per-function analyses grow faster than the function. Each top-level nest
// becomes a call to a function of its own, whose arguments are the buffers
// it works on, so that duplicate-function-elimination can merge the nests of
// repeated layers into one function.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITOUTLINELOOPNESTS
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// Replaces `nest` by a call to a new private function named after `name`
/// (renamed by `symbols` on a clash), inserted before `parent`.
void outline(Operation *nest, func::FuncOp parent, StringRef name,
             SymbolTable &symbols) {
  // Operands first, then the values the regions capture, each in the order
  // of its first use: nests that match op for op get the same signature.
  llvm::SetVector<Value> captured(nest->operand_begin(), nest->operand_end());
  getUsedValuesDefinedAbove(nest->getRegions(), captured);

  SmallVector<Value> arguments;
  SmallVector<Operation *> constants;
  for (Value value : captured) {
    Operation *def = value.getDefiningOp();
    if (def && def->hasTrait<OpTrait::ConstantLike>())
      constants.push_back(def);
    else
      arguments.push_back(value);
  }

  Location loc = nest->getLoc();
  MLIRContext *context = nest->getContext();
  auto type = FunctionType::get(context, ValueRange(arguments).getTypes(),
                                nest->getResultTypes());
  auto callee = func::FuncOp::create(loc, name, type);
  callee.setPrivate();
  // LLVM would otherwise inline the nests back into one function, and a
  // call costs nothing next to a loop nest.
  callee.setNoInline(true);
  callee->setAttr("llvm.linkage",
                  LLVM::LinkageAttr::get(context, LLVM::Linkage::Internal));
  Block *body = callee.addEntryBlock();
  IRMapping mapping;
  mapping.map(arguments, body->getArguments());
  OpBuilder builder = OpBuilder::atBlockBegin(body);
  for (Operation *constant : constants)
    builder.clone(*constant, mapping);
  Operation *moved = builder.clone(*nest, mapping);
  func::ReturnOp::create(builder, loc, moved->getResults());
  symbols.insert(callee, Block::iterator(parent));

  builder.setInsertionPoint(nest);
  auto call = func::CallOp::create(builder, loc, callee, arguments);
  call.setNoInline(true);
  nest->replaceAllUsesWith(call.getResults());
  nest->erase();
}

struct OneBitOutlineLoopNestsPass
    : public onebit::impl::OneBitOutlineLoopNestsBase<
          OneBitOutlineLoopNestsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (auto function : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (function.isExternal())
        continue;
      SmallVector<Operation *> nests;
      for (Block &block : function.getBody())
        for (Operation &op : block)
          if (op.getNumRegions() != 0)
            nests.push_back(&op);
      std::string prefix = (function.getSymName() + "_loop_").str();
      for (auto [index, nest] : llvm::enumerate(nests))
        outline(nest, function, prefix + std::to_string(index), symbols);
    }
  }
};

} // namespace
