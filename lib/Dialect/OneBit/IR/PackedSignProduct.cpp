//===- PackedSignProduct.cpp - onebit.packed_sign_product and schedules ---===//
//
// The product op and what its schedules say on their own; whether a
// product can take a schedule is for the pass that builds its kernel to
// check (onebit-gpu-sign-mma, onebit-gpu-sign-gemv on the GPU,
// convert-onebit-to-linalg on the CPU).
//
//===----------------------------------------------------------------------===//

#include "onebit/Dialect/OneBit/IR/DestinationOps.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::onebit;

static bool isOneTwoOrFour(int64_t value) {
  return value == 1 || value == 2 || value == 4;
}

LogicalResult GPUSignMmaScheduleAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, SignDecoding decoding,
    int64_t rowTiles, int64_t kSplit, int64_t words, int64_t chunk,
    int64_t loadsAhead, int64_t bitClasses, bool directFragments) {
  auto fail = [&]() {
    return emitError() << "gpu_sign_mma_schedule ";
  };
  if (rowTiles < 1 || rowTiles > 4)
    return fail() << "row_tiles must be 1..4, got " << rowTiles;
  if (!isOneTwoOrFour(kSplit))
    return fail() << "k_split must be 1, 2 or 4, got " << kSplit;
  if (!isOneTwoOrFour(words))
    return fail() << "words must be 1, 2 or 4, got " << words;
  if (chunk < 1)
    return fail() << "chunk must be at least 1, got " << chunk;
  if (loadsAhead < 1 || loadsAhead > 8)
    return fail() << "loads_ahead must be 1..8, got " << loadsAhead;
  bool classes = decoding == SignDecoding::BitClasses;
  if (classes != (bitClasses != 0))
    return fail() << "bit_classes is set with the bit_classes decoding, and "
                     "only then";
  if (classes && (bitClasses < 2 || bitClasses > 16 ||
                  !llvm::isPowerOf2_64(bitClasses)))
    return fail() << "bit_classes must be 2, 4, 8 or 16, got " << bitClasses;
  if (decoding != SignDecoding::ShiftedPairs && rowTiles != 1)
    return fail() << "row_tiles must be 1 with the "
                  << stringifySignDecoding(decoding) << " decoding";
  if (decoding == SignDecoding::ByteClasses && kSplit != 1)
    return fail() << "k_split must be 1 with the byte_classes decoding";
  if (decoding == SignDecoding::BitClasses && words < 2)
    return fail() << "words must be 2 or 4 with the bit_classes decoding";
  if (directFragments && (decoding != SignDecoding::ShiftedPairs || words != 1))
    return fail() << "direct_fragments needs the shifted_pairs decoding and "
                     "one word";
  return success();
}

LogicalResult GPUSignGemvScheduleAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, int64_t words,
    int64_t rowsPerStep, int64_t gridSize, bool staged) {
  if (!isOneTwoOrFour(words))
    return emitError() << "gpu_sign_gemv_schedule words must be 1, 2 or 4, "
                          "got "
                       << words;
  if (rowsPerStep < 1 || rowsPerStep > 8)
    return emitError() << "gpu_sign_gemv_schedule rows_per_step must be "
                          "1..8, got "
                       << rowsPerStep;
  if (gridSize < 1)
    return emitError() << "gpu_sign_gemv_schedule grid_size must be at least "
                          "1, got "
                       << gridSize;
  return success();
}

/// Input rows of one CPU tile: the kernels unroll over them.
static constexpr int64_t kMaxCPUTileRows = 64;

LogicalResult CPUSignVectorScheduleAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, int64_t tileRows,
    int64_t blockRows, int64_t chunkBytes, bool maskedAdds) {
  if (tileRows < 1 || tileRows > kMaxCPUTileRows)
    return emitError() << "cpu_sign_vector_schedule tile_rows must be 1.."
                       << kMaxCPUTileRows << ", got " << tileRows;
  if (blockRows < 1 || blockRows > 64)
    return emitError() << "cpu_sign_vector_schedule block_rows must be 1..64, "
                          "got "
                       << blockRows;
  if (chunkBytes != 1 && chunkBytes != 2)
    return emitError() << "cpu_sign_vector_schedule chunk_bytes must be 1 or "
                          "2, got "
                       << chunkBytes;
  return success();
}

LogicalResult CPUSignLookupScheduleAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, int64_t tileRows,
    int64_t indexVectors) {
  if (tileRows < 1 || tileRows > kMaxCPUTileRows)
    return emitError() << "cpu_sign_lookup_schedule tile_rows must be 1.."
                       << kMaxCPUTileRows << ", got " << tileRows;
  if (!isOneTwoOrFour(indexVectors))
    return emitError() << "cpu_sign_lookup_schedule index_vectors must be 1, "
                          "2 or 4, got "
                       << indexVectors;
  return success();
}

//===----------------------------------------------------------------------===//
// PackedSignProductOp
//===----------------------------------------------------------------------===//

LogicalResult PackedSignProductOp::verify() {
  if (failed(verifyTensorsOrBuffers(*this)))
    return failure();
  bool tensors = isa<TensorType>(getInit().getType());
  if (tensors &&
      (getResults().size() != 1 || getResults()[0].getType() != getInit().getType()))
    return emitOpError() << "has one result of the type of 'init'";
  auto input = cast<ShapedType>(getInput().getType());
  auto signs = cast<ShapedType>(getSigns().getType());
  auto init = cast<ShapedType>(getInit().getType());
  if (!input.hasRank() || !signs.hasRank() || !init.hasRank() ||
      input.getRank() != 2 || init.getRank() != 2)
    return emitOpError() << "takes 'input' [M, K] and 'init' [M, N]";
  if (!isa<FloatType>(input.getElementType()) ||
      !isa<FloatType>(init.getElementType()))
    return emitOpError() << "'input' and 'init' must hold floats";
  SignPackingAttr packing = getPacking();
  if (!signs.getElementType().isInteger(packing.getWord()))
    return emitOpError() << "'signs' must hold i" << packing.getWord()
                         << " words, as its packing says";
  if (!input.hasStaticShape() || !init.hasStaticShape() ||
      !signs.hasStaticShape())
    return success();
  int64_t rows = input.getDimSize(0), inFeatures = input.getDimSize(1);
  int64_t outFeatures = init.getDimSize(1);
  if (init.getDimSize(0) != rows)
    return emitOpError() << "'init' has " << init.getDimSize(0)
                         << " rows, 'input' " << rows;
  if (outFeatures % packing.getInterleave() != 0 ||
      ArrayRef<int64_t>(packing.getPackedShape(outFeatures, inFeatures)) !=
          signs.getShape())
    return emitOpError() << "'signs' " << signs
                         << " is not the packing of an " << outFeatures
                         << " x " << inFeatures << " sign matrix";
  return success();
}

void PackedSignProductOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  // The sums are added to the init.
  getDestinationEffects(*this, effects);
}
