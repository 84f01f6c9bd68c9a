// RUN: not onebit-opt %s -onebit-gpu-sign-mma=row-tiles=5 2>&1 | FileCheck %s
// RUN: not onebit-opt %s -onebit-gpu-sign-mma=min-grid-size=0 2>&1 | FileCheck %s

// Schedules the kernel cannot take are rejected, not miscompiled.
// CHECK: error: onebit-gpu-sign-mma: row-tiles must be 0..4 and min-grid-size at least 1
func.func @any() {
  return
}
