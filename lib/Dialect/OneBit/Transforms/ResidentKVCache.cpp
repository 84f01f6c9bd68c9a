//===- ResidentKVCache.cpp - a decoder's cache as state of the library ----===//
//
// onebit-resident-kv-cache: in a decoding step whose cache travels through
// its inputs and outputs, the attention of each layer becomes one
// onebit.cached_attention that reads the cache where it lives (a function
// argument marked onebit.state, rows dynamic) and appends the new rows to
// it. The cache inputs and outputs leave the signature.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatch.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"
#include "onebit/Dialect/OneBit/Transforms/Passes.h"
#include "onebit/Utils/DecoderForms.h"
#include "onebit/Utils/TosaBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITRESIDENTKVCACHE
#include "onebit/Dialect/OneBit/Transforms/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

struct LayerCache {
  int64_t keyArg = -1, valueArg = -1;
};

/// The ONNX name of argument or result `index` ("" if none).
StringRef getONNXName(DictionaryAttr attrs) {
  if (attrs)
    if (auto name = attrs.getAs<StringAttr>(kONNXNameAttr))
      return name.getValue();
  return "";
}

/// Erases ops without uses or effects, latest first, until none is left.
void eraseDeadOps(func::FuncOp func) {
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) { ops.push_back(op); });
    for (Operation *op : llvm::reverse(ops))
      if (op != func && isOpTriviallyDead(op)) {
        op->erase();
        changed = true;
      }
  }
}

struct ResidentKVCachePass
    : onebit::impl::OneBitResidentKVCacheBase<ResidentKVCachePass> {
  using Base::Base;

  void runOnOperation() override {
    for (auto func :
         llvm::make_early_inc_range(getOperation().getOps<func::FuncOp>()))
      if (failed(rewrite(func)))
        return signalPassFailure();
  }

  LogicalResult rewrite(func::FuncOp func) {
    llvm::MapVector<int64_t, LayerCache> layers;
    int64_t position = -1, positionIds = -1, attentionMask = -1;
    DecoderForm form = DecoderForm::None;
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      DecoderName name =
          classifyDecoderInput(getONNXName(func.getArgAttrDict(i)));
      switch (name.kind) {
      case DecoderTensor::PastKey:
        layers[name.layer].keyArg = i;
        form = name.form;
        break;
      case DecoderTensor::PastValue:
        layers[name.layer].valueArg = i;
        form = name.form;
        break;
      case DecoderTensor::Position:
        position = i;
        break;
      case DecoderTensor::PositionIds:
        positionIds = i;
        break;
      case DecoderTensor::AttentionMask:
        attentionMask = i;
        break;
      default:
        break;
      }
    }
    if (layers.empty())
      return success();
    Location loc = func.getLoc();
    for (auto &[layer, cache] : layers)
      if (cache.keyArg < 0 || cache.valueArg < 0)
        return emitError(loc) << "layer " << layer << " of the decoder has "
                              << (cache.keyArg < 0 ? "no past key input"
                                                   : "no past value input");

    // Each layer's attention, matched before anything changes.
    SmallVector<std::pair<int64_t, CachedAttentionMatch>> matches;
    for (auto &[layer, cache] : layers) {
      Operation *where = nullptr;
      std::string why;
      FailureOr<CachedAttentionMatch> match =
          matchCachedAttention(func.getArgument(cache.keyArg),
                               func.getArgument(cache.valueArg), where, why);
      if (failed(match)) {
        InFlightDiagnostic diag =
            (where ? where->emitError() : emitError(loc))
            << "layer " << layer << ": " << why;
        if (where)
          if (auto name = dyn_cast<NameLoc>(where->getLoc()))
            diag << " (at ONNX node '" << name.getName().getValue() << "')";
        return diag << "; onebit cannot keep this key/value cache in the "
                       "library (onebit-compile --resident-cache=false "
                       "compiles the step with the cache as inputs and "
                       "outputs)";
      }
      matches.emplace_back(layer, *match);
    }

    OpBuilder builder(func.getContext());
    builder.setInsertionPointToStart(&func.getBody().front());
    Type i64 = builder.getI64Type();
    MLIRContext *context = func.getContext();
    auto nameAttrs = [&](StringRef name, StringRef dtype, bool state) {
      SmallVector<NamedAttribute> attrs = {
          builder.getNamedAttr(kONNXNameAttr, builder.getStringAttr(name)),
          builder.getNamedAttr(kONNXTypeAttr, builder.getStringAttr(dtype))};
      // The kernels append to the state in place.
      if (state)
        attrs.append(
            {builder.getNamedAttr(kStateAttrName, UnitAttr::get(context)),
             builder.getNamedAttr("bufferization.writable",
                                  builder.getBoolAttr(true))});
      return DictionaryAttr::get(context, attrs);
    };

    // The positions already in the cache: onebit's `position`, or a new
    // input that Hugging Face's `position_ids` and `attention_mask` are
    // computed from (a causal mask over rows that all exist).
    int64_t newRows =
        cast<ShapedType>(matches.front().second.query.getType()).getDimSize(2);
    Value positionValue;
    if (position >= 0) {
      positionValue = func.getArgument(position);
      auto type = dyn_cast<RankedTensorType>(positionValue.getType());
      if (!type || type.getNumElements() != 1 ||
          !type.getElementType().isSignlessInteger())
        return emitError(positionValue.getLoc())
               << "the decoder's 'position' input must hold one integer, "
                  "got "
               << positionValue.getType();
    } else {
      if (positionIds < 0)
        return emitError(loc)
               << "the decoder has no 'position' input (onebit's form) or "
                  "'position_ids' input (Hugging Face's form): onebit "
                  "cannot tell the positions of new tokens";
      unsigned index = func.getNumArguments();
      if (failed(func.insertArgument(index, RankedTensorType::get({1}, i64),
                                     nameAttrs("position", "int64", false),
                                     loc)))
        return failure();
      positionValue = func.getArgument(index);
      TosaBuilder tosa(builder, loc);
      Value ids = func.getArgument(positionIds);
      auto idsType = cast<RankedTensorType>(ids.getType());
      if (idsType.getRank() != 2 || idsType.getDimSize(1) != newRows ||
          !idsType.getElementType().isSignlessInteger())
        return emitError(ids.getLoc())
               << "'position_ids' must be [batch, " << newRows
               << "] integers, got " << idsType;
      SmallVector<int64_t> steps(newRows);
      std::iota(steps.begin(), steps.end(), 0);
      Value offsets = tosa.constant(DenseElementsAttr::get(
          RankedTensorType::get({1, newRows}, i64), ArrayRef<int64_t>(steps)));
      Value start = tosa.reshape(positionValue, {1, 1});
      Value positions = tosa.add(start, offsets);
      positions = tosa.broadcastTo(positions, idsType.getShape());
      positions = tosa.cast(positions, idsType.getElementType());
      ids.replaceAllUsesWith(positions);
      if (attentionMask >= 0) {
        Value mask = func.getArgument(attentionMask);
        auto maskType = cast<RankedTensorType>(mask.getType());
        if (!maskType.hasStaticShape() ||
            !maskType.getElementType().isIntOrFloat())
          return emitError(mask.getLoc())
                 << "'attention_mask' must have a static shape, got "
                 << maskType;
        Attribute one =
            isa<FloatType>(maskType.getElementType())
                ? Attribute(builder.getFloatAttr(maskType.getElementType(), 1))
                : Attribute(
                      builder.getIntegerAttr(maskType.getElementType(), 1));
        mask.replaceAllUsesWith(
            tosa.constant(DenseElementsAttr::get(maskType, one)));
      }
    }

    // The window: onebit's form holds its positions in static caches (and
    // rotary tables of as many rows).
    int64_t window = maxSeqLen;
    auto pastType = cast<RankedTensorType>(
        func.getArgument(layers.front().second.keyArg).getType());
    if (form == DecoderForm::OneBit) {
      int64_t rows = pastType.getDimSize(2);
      if (window > rows)
        return emitError(loc)
               << "--max-seq-len " << window << " is more than the " << rows
               << " rows of the decoder's cache";
      if (window == 0)
        window = rows;
    }
    if (window < 0)
      return emitError(loc) << "--max-seq-len must not be negative";

    // The state: one key and one value cache per layer, rows dynamic.
    SmallVector<Value> keyStates, valueStates;
    for (auto &[layer, cache] : layers) {
      for (int64_t arg : {cache.keyArg, cache.valueArg}) {
        auto type = cast<RankedTensorType>(func.getArgument(arg).getType());
        SmallVector<int64_t> shape(type.getShape());
        shape[2] = ShapedType::kDynamic;
        unsigned index = func.getNumArguments();
        DictionaryAttr old = func.getArgAttrDict(arg);
        StringRef dtype = "float32";
        if (old)
          if (auto name = old.getAs<StringAttr>(kONNXTypeAttr))
            dtype = name.getValue();
        if (failed(func.insertArgument(index, type.clone(shape),
                                       nameAttrs(getONNXName(old), dtype, true),
                                       loc)))
          return failure();
        (arg == cache.keyArg ? keyStates : valueStates)
            .push_back(func.getArgument(index));
      }
    }

    // Each attention becomes one op that reads and extends the state.
    for (auto [index, entry] : llvm::enumerate(matches)) {
      CachedAttentionMatch &match = entry.second;
      Operation *anchor = match.output.getDefiningOp();
      builder.setInsertionPoint(anchor);
      Location opLoc = anchor->getLoc();
      auto queryType = cast<RankedTensorType>(match.query.getType());
      Value init = tensor::EmptyOp::create(builder, opLoc, queryType.getShape(),
                                           queryType.getElementType());
      Value keyState = keyStates[index], valueState = valueStates[index];
      auto attention = CachedAttentionOp::create(
          builder, opLoc,
          TypeRange{init.getType(), keyState.getType(), valueState.getType()},
          match.query, match.newKey, match.newValue, positionValue,
          /*mask=*/Value(), init, keyState, valueState,
          builder.getF32FloatAttr(float(match.scale)), /*schedule=*/nullptr);
      if (failed(attention.verify()))
        return failure();
      TosaBuilder tosa(builder, opLoc);
      auto outputType = cast<RankedTensorType>(match.output.getType());
      Value output =
          tosa.reshape(attention.getResult(0), outputType.getShape());
      if (outputType.getElementType() != queryType.getElementType())
        output = tosa.cast(output, outputType.getElementType());
      match.output.replaceAllUsesWith(output);
    }

    // The cache outputs go, then what only they and the old attention read,
    // then the cache inputs.
    auto returnOp =
        cast<func::ReturnOp>(func.getBody().front().getTerminator());
    llvm::BitVector deadResults(func.getNumResults());
    for (unsigned i = 0; i < func.getNumResults(); ++i) {
      DecoderName name =
          classifyDecoderOutput(getONNXName(func.getResultAttrDict(i)));
      if (name.kind != DecoderTensor::Other && layers.count(name.layer))
        deadResults.set(i);
    }
    returnOp->eraseOperands(deadResults);
    if (failed(func.eraseResults(deadResults)))
      return failure();
    eraseDeadOps(func);
    llvm::BitVector deadArgs(func.getNumArguments());
    for (auto &[layer, cache] : layers) {
      deadArgs.set(cache.keyArg);
      deadArgs.set(cache.valueArg);
    }
    for (int64_t arg : {positionIds, attentionMask})
      if (arg >= 0)
        deadArgs.set(arg);
    for (unsigned i : deadArgs.set_bits())
      if (!func.getArgument(i).use_empty())
        return emitError(func.getArgument(i).getLoc())
               << "the decoder's '" << getONNXName(func.getArgAttrDict(i))
               << "' input is read by more than its layer's attention";
    if (failed(func.eraseArguments(deadArgs)))
      return failure();
    func->setAttr(kWindowAttrName, builder.getI64IntegerAttr(window));
    func->setAttr(kDecoderFormAttrName,
                  builder.getStringAttr(
                      form == DecoderForm::OneBit ? "onebit" : "optimum"));
    return success();
  }
};

} // namespace
