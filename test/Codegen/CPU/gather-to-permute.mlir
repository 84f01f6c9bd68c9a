// RUN: onebit-opt %s -onebit-gather-to-permute -split-input-file | FileCheck %s

// A gather of 16 floats from one contiguous 16-float row at indices masked
// to 4 bits: a load of the row and vpermps on the unmasked indices.
// CHECK-LABEL: func @row_lookup
// CHECK-SAME: (%[[TABLES:.*]]: memref<2x8x16xf32>, %[[BYTES:.*]]: vector<16xi32>, %[[R:.*]]: index, %[[G:.*]]: index)
// CHECK-NOT: vector.gather
// CHECK: %[[ROW:.*]] = vector.load %[[TABLES]][%[[R]], %[[G]], %c0] : memref<2x8x16xf32>, vector<16xf32>
// CHECK: %[[PICKED:.*]] = llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"(%[[ROW]], %[[BYTES]]) : (vector<16xf32>, vector<16xi32>) -> vector<16xf32>
// CHECK: return %[[PICKED]]
func.func @row_lookup(%tables: memref<2x8x16xf32>, %bytes: vector<16xi32>, %r: index, %g: index) -> vector<16xf32> {
  %c0 = arith.constant 0 : index
  %fifteen = arith.constant dense<15> : vector<16xi32>
  %all = arith.constant dense<true> : vector<16xi1>
  %zeros = arith.constant dense<0.0> : vector<16xf32>
  %i = arith.andi %bytes, %fifteen : vector<16xi32>
  %v = vector.gather %tables[%r, %g, %c0] [%i], %all, %zeros
         : memref<2x8x16xf32>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
  return %v : vector<16xf32>
}

// -----

// What must stay a gather: indices that may leave the row, a partial mask,
// a row of 32, a start inside the row, a strided row.
// CHECK-LABEL: func @not_row_lookups
// CHECK-NOT: llvm.call_intrinsic
// CHECK-COUNT-5: vector.gather
// CHECK-NOT: llvm.call_intrinsic
func.func @not_row_lookups(%tables: memref<8x16xf32>, %wide: memref<8x32xf32>,
                           %strided: memref<8x16xf32, strided<[32, 2]>>,
                           %bytes: vector<16xi32>, %mask: vector<16xi1>, %g: index)
    -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %fifteen = arith.constant dense<15> : vector<16xi32>
  %thirty_one = arith.constant dense<31> : vector<16xi32>
  %all = arith.constant dense<true> : vector<16xi1>
  %zeros = arith.constant dense<0.0> : vector<16xf32>
  %i = arith.andi %bytes, %fifteen : vector<16xi32>
  %j = arith.andi %bytes, %thirty_one : vector<16xi32>
  %a = vector.gather %tables[%g, %c0] [%j], %all, %zeros
         : memref<8x16xf32>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
  %b = vector.gather %tables[%g, %c0] [%i], %mask, %zeros
         : memref<8x16xf32>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
  %c = vector.gather %wide[%g, %c0] [%i], %all, %zeros
         : memref<8x32xf32>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
  %d = vector.gather %tables[%g, %c1] [%i], %all, %zeros
         : memref<8x16xf32>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
  %e = vector.gather %strided[%g, %c0] [%i], %all, %zeros
         : memref<8x16xf32, strided<[32, 2]>>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
  return %a, %b, %c, %d, %e : vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>
}
