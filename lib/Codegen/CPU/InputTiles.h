//===- InputTiles.h - input rows cut into tiles for the CPU kernels -------===//
//
// Both CPU product kernels walk the input rows in tiles of at most a
// schedule's `tile_rows`, cut as evenly as possible so that no tile is
// left with few rows.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_CODEGEN_CPU_INPUTTILES_H
#define ONEBIT_LIB_CODEGEN_CPU_INPUTTILES_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/MathExtras.h"

#include <cstdint>

namespace mlir::onebit {

/// `count` consecutive tiles of `rows` input rows each, from row `first`.
struct TileRun {
  int64_t first;
  int64_t rows;
  int64_t count;
};

/// `rows` input rows in ceil(rows / maxTileRows) tiles: a run of the tiles
/// one row larger, if any, then the rest (33 rows at most 6 a tile: 3 tiles
/// of 6 and 3 of 5).
inline llvm::SmallVector<TileRun, 2> splitIntoTiles(int64_t rows,
                                                    int64_t maxTileRows) {
  llvm::SmallVector<TileRun, 2> runs;
  if (rows == 0)
    return runs;
  int64_t tiles = llvm::divideCeil(rows, maxTileRows);
  int64_t tileRows = rows / tiles;
  int64_t larger = rows % tiles;
  if (larger != 0)
    runs.push_back({0, tileRows + 1, larger});
  runs.push_back({larger * (tileRows + 1), tileRows, tiles - larger});
  return runs;
}

} // namespace mlir::onebit

#endif // ONEBIT_LIB_CODEGEN_CPU_INPUTTILES_H
