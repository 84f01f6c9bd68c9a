// RUN: not onebit-opt %s -onebit-gpu-sign-mma=row-tiles=5 2>&1 | FileCheck %s
// RUN: not onebit-opt %s -onebit-gpu-sign-mma=min-grid-size=0 2>&1 | FileCheck %s
// RUN: not onebit-opt %s -onebit-gpu-sign-mma=bit-classes=3 2>&1 | FileCheck %s --check-prefix=CLASSES
// RUN: not onebit-opt %s -onebit-gpu-sign-mma=bit-classes=32 2>&1 | FileCheck %s --check-prefix=CLASSES
// RUN: not onebit-opt %s -onebit-gpu-sign-mma=loads-ahead=9 2>&1 | FileCheck %s --check-prefix=CLASSES

// Schedules the kernel cannot take are rejected, not miscompiled.
// CHECK: error: onebit-gpu-sign-mma: row-tiles must be 0..4 and min-grid-size at least 1
// CLASSES: error: onebit-gpu-sign-mma: bit-classes must be 2, 4, 8 or 16 and loads-ahead 1..8
func.func @any() {
  return
}
