//===- DeviceConstants.cpp - weights read from their device copies --------===//
//
// onebit-cuda-device-constants: host code reads each constant global's
// device address from a table that the runtime fills when it uploads the
// weights once.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITCUDADEVICECONSTANTS
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {


constexpr StringLiteral kDeviceTable = "onebit_cuda_constants";
constexpr StringLiteral kConstantTable = "onebit_cuda_constant_table";
constexpr StringLiteral kNumConstants = "onebit_cuda_num_constants";

struct CUDADeviceConstantsPass
    : onebit::impl::OneBitCUDADeviceConstantsBase<CUDADeviceConstantsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    SymbolTable symbols(module);

    // Constant globals addressed from host functions, in first-use order.
    SmallVector<LLVM::GlobalOp> constants;
    DenseMap<StringAttr, unsigned> indexOf;
    SmallVector<std::pair<LLVM::AddressOfOp, unsigned>> uses;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
      func.walk([&](LLVM::AddressOfOp address) {
        auto global = symbols.lookup<LLVM::GlobalOp>(
            address.getGlobalNameAttr().getAttr());
        if (!global || !global.getConstant() ||
            (!global.getValueOrNull() && !global.getInitializerBlock()))
          return;
        auto [it, inserted] =
            indexOf.try_emplace(global.getSymNameAttr(), constants.size());
        if (inserted)
          constants.push_back(global);
        uses.push_back({address, it->second});
      });
    }

    OpBuilder builder(context);
    builder.setInsertionPointToEnd(module.getBody());
    Location loc = module.getLoc();
    auto ptr = LLVM::LLVMPointerType::get(context);
    auto i64 = builder.getI64Type();
    unsigned count = constants.size();
    unsigned slots = std::max(count, 1u);
    auto tableType = LLVM::LLVMArrayType::get(ptr, slots);

    // The device pointers, written by the runtime when the model opens.
    auto device = LLVM::GlobalOp::create(builder, loc, tableType,
                                         /*isConstant=*/false,
                                         LLVM::Linkage::External, kDeviceTable,
                                         Attribute());
    {
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(
          builder.createBlock(&device.getInitializerRegion()));
      LLVM::ReturnOp::create(builder, loc,
                             LLVM::ZeroOp::create(builder, loc, tableType));
    }

    // {host address, bytes} of each constant, read by the runtime.
    DataLayout layout(module);
    auto entryType = LLVM::LLVMStructType::getLiteral(context, {ptr, i64});
    auto entriesType = LLVM::LLVMArrayType::get(entryType, slots);
    auto entries = LLVM::GlobalOp::create(
        builder, loc, entriesType, /*isConstant=*/true,
        LLVM::Linkage::External, kConstantTable, Attribute());
    {
      Block *block = builder.createBlock(&entries.getInitializerRegion());
      builder.setInsertionPointToStart(block);
      Value table = LLVM::UndefOp::create(builder, loc, entriesType);
      for (unsigned i = 0; i < slots; ++i) {
        Value address, bytes;
        if (i < count) {
          address = LLVM::AddressOfOp::create(builder, loc, constants[i]);
          bytes = LLVM::ConstantOp::create(
              builder, loc, i64,
              builder.getI64IntegerAttr(
                  layout.getTypeSize(constants[i].getGlobalType())));
        } else {
          address = LLVM::ZeroOp::create(builder, loc, ptr);
          bytes = LLVM::ConstantOp::create(builder, loc, i64,
                                           builder.getI64IntegerAttr(0));
        }
        Value entry = LLVM::UndefOp::create(builder, loc, entryType);
        entry = LLVM::InsertValueOp::create(builder, loc, entry, address,
                                            ArrayRef<int64_t>{0});
        entry = LLVM::InsertValueOp::create(builder, loc, entry, bytes,
                                            ArrayRef<int64_t>{1});
        table = LLVM::InsertValueOp::create(builder, loc, table, entry,
                                            ArrayRef<int64_t>{i});
      }
      LLVM::ReturnOp::create(builder, loc, table);
    }
    builder.setInsertionPointToEnd(module.getBody());
    LLVM::GlobalOp::create(builder, loc, i64, /*isConstant=*/true,
                           LLVM::Linkage::External, kNumConstants,
                           builder.getI64IntegerAttr(count));

    // Host code reads each constant's device address from the table.
    for (auto [address, index] : uses) {
      builder.setInsertionPoint(address);
      Location useLoc = address.getLoc();
      Value table = LLVM::AddressOfOp::create(builder, useLoc, ptr,
                                              kDeviceTable);
      Value slot = LLVM::GEPOp::create(
          builder, useLoc, ptr, tableType, table,
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(index)});
      Value device = LLVM::LoadOp::create(builder, useLoc, ptr, slot);
      address.replaceAllUsesWith(device);
      address.erase();
    }
  }
};

} // namespace
